#!/usr/bin/env bash
# The corpus's three most memory-hungry photos, four copies each, for measuring the decode budget: a progressive
# 4:4:4 JPEG (16.8 MP), a progressive 4:2:0 JPEG (17.9 MP) and a 13.4 MP HEIC, whose decoders hold the whole image.
#
#   bench/heavy_corpus.sh CORPUS_DIR OUT_DIR
set -euo pipefail
corpus=${1:?usage: heavy_corpus.sh CORPUS_DIR OUT_DIR}
out=${2:?usage: heavy_corpus.sh CORPUS_DIR OUT_DIR}
mkdir -p "$out"
for copy in 1 2 3 4; do
  cp "$corpus/jpg/l20-infinitesea.jpg" "$out/infinitesea-$copy.jpg"
  cp "$corpus/jpg/mate-elephants-5640.jpg" "$out/elephants-$copy.jpg"
  cp "$corpus/heic/l16-dragonfly.heic" "$out/dragonfly-$copy.heic"
done
echo "$out: $(ls "$out" | wc -l) photos"
