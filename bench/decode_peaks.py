#!/usr/bin/env python3
"""Each photo of a corpus alone through `pixelflow process --threads 1` (canonical pipeline), its peak RSS: which
decoders hold the whole image (progressive JPEG, HEIC, alpha PNG) and how much, the data behind DecodeFootprint.

  bench/decode_peaks.py BIN_DIR CORPUS_DIR        prints peak MiB, megapixels, and the photo, lowest peak first
"""
import json
import os
import resource
import subprocess
import sys
import tempfile

CANONICAL = {"pipeline": [
    {"id": "thumb", "action": "resize", "width": 150, "format": "webp", "quality": 80},
    {"id": "medium", "action": "resize", "width": 800, "format": "jpeg", "quality": 85},
    {"id": "large", "action": "resize", "width": 1600, "format": "webp", "quality": 75},
]}
# Reads the peak RSS of one child, in a process of its own so that RUSAGE_CHILDREN covers only that child.
PEAK = ("import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def megapixels(path):
    size = {}
    for field in ("width", "height"):
        out = subprocess.run(["vipsheader", "-f", field, path], capture_output=True, text=True).stdout
        size[field] = int(out.strip())
    return size["width"] * size["height"] / 1e6


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary = os.path.join(sys.argv[1], "pixelflow")
    photos = sorted(os.path.join(root, name) for root, _, names in os.walk(sys.argv[2]) for name in names
                    if name.lower().endswith((".jpg", ".jpeg", ".png", ".webp", ".heic")))
    with tempfile.TemporaryDirectory() as work:
        pipeline = os.path.join(work, "canonical.json")
        with open(pipeline, "w") as file:
            json.dump(CANONICAL, file)
        rows = []
        for photo in photos:
            command = [binary, "process", "--threads", "1", "--pipeline", pipeline, "-o", os.path.join(work, "out"),
                       photo]
            out = subprocess.run([sys.executable, "-c", PEAK] + command, capture_output=True, text=True).stdout
            rows.append((int(out.strip()) // 1024, megapixels(photo), os.path.relpath(photo, sys.argv[2])))
    for peak, mp, photo in sorted(rows):
        print(f"{peak:5d} MiB {mp:5.1f} MP  {photo}")


if __name__ == "__main__":
    main()
