#!/usr/bin/env python3
"""What "first variant fast" would cost: the canonical pipeline's 150 px thumb made from its own shrink-on-load
decode, before the 1600 px base decode, against the job as the engine runs it (one base decode, three variants
derived from it). Per source format, CPU time of one libvips thread (pyvips, the same libvips the engine links):

  base     thumbnail_buffer to the 1600 px box, rendered to memory (the engine's one decode)
  job      base + the three variants resized from it and encoded (WebP q80 150 px, JPEG q85 800 px, WebP q75 1600 px)
  early    thumbnail_buffer straight to the 150 px box + its WebP encode (the extra work the early thumb adds)

and prints early / job (the extra CPU per job; the issue allows 10 %) and the thumb's arrival with and without it
(single job, no queueing: today after base + thumb encode, early after the early work alone).

  ~/.local/share/pixelflow/tools/bin/python bench/first_variant_cost.py /tmp/pf-corpus
"""
import collections
import glob
import os
import sys
import time

os.environ.setdefault("VIPS_CONCURRENCY", "1")
import pyvips  # noqa: E402  (after VIPS_CONCURRENCY, which libvips reads when it starts)

pyvips.cache_set_max(0)
VARIANTS = [(150, "webp", 80), (800, "jpeg", 85), (1600, "webp", 75)]


def encode(image, fmt, quality):
    if fmt == "webp":
        return image.webpsave_buffer(Q=quality, strip=True)
    return image.jpegsave_buffer(Q=quality, strip=True)


def cpu(work):
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def measure(data):
    base_time, base = cpu(lambda: pyvips.Image.thumbnail_buffer(data, 1600, height=1600, size="down").copy_memory())
    variant_times = []
    for width, fmt, quality in VARIANTS:
        scale = min(1.0, width / base.width)
        seconds, _ = cpu(lambda: encode(base.resize(scale) if scale < 1 else base, fmt, quality))
        variant_times.append(seconds)
    early_time, _ = cpu(
        lambda: encode(pyvips.Image.thumbnail_buffer(data, 150, height=150, size="down"), "webp", 80))
    return base_time, variant_times, early_time


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else "/tmp/pf-corpus"
    totals = collections.defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0.0])
    for path in sorted(glob.glob(os.path.join(corpus, "*", "*"))):
        if not path.lower().endswith((".jpg", ".jpeg", ".png", ".webp", ".heic")):
            continue
        fmt = os.path.splitext(path)[1].lower().lstrip(".").replace("jpeg", "jpg")
        base, variants, early = measure(open(path, "rb").read())
        for key in (fmt, "all"):
            row = totals[key]
            row[0] += 1
            row[1] += base
            row[2] += base + sum(variants)
            row[3] += early
            row[4] += base + variants[0]
    print("| source | images | base decode ms | job CPU ms | early thumb ms | extra CPU per job | thumb today ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for key in sorted(totals, key=lambda k: (k == "all", k)):
        n, base, job, early, today = totals[key]
        print(f"| {key} | {n} | {base / n * 1000:.0f} | {job / n * 1000:.0f} | {early / n * 1000:.0f} "
              f"| {early / job * 100:.0f} % | {today / n * 1000:.0f} |")


if __name__ == "__main__":
    main()
