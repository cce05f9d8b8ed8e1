#!/usr/bin/env python3
"""The engine against a well-written pyvips script, side by side on the corpus (A B A B …, medians).

The reference decodes each photo once, the straightforward way: `thumbnail_buffer` to the largest variant
(1600 wide, shrink-on-load, EXIF rotation; an embedded ICC profile converted to sRGB), the smaller variants resized from that image, the encoders
with PixelFlow's settings (WebP q80/q75 effort 4, JPEG q85, metadata stripped), two processes of one libvips
thread each, operation cache off — as `pixelflow process --threads 2` runs two jobs of one thread each.

Each round times both on the whole corpus (wall clock, and CPU-ms per image from the children's rusage), then
the outputs of the last round are compared variant by variant: same dimensions, file size ratio, and libvips'
own difference statistics (mean absolute difference per pixel and band, and PSNR, after decoding both).

  bench/pyvips_reference.py BIN_DIR CORPUS_DIR [ROUNDS]     needs pyvips (deploy/install-deps.sh puts it in
                                                           ~/.local/share/pixelflow/tools; run with that python)
"""
import json
import math
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CANONICAL = [  # id, width, format, quality — PixelFlow's canonical pipeline
    ("thumb", 150, "webp", 80),
    ("medium", 800, "jpg", 85),
    ("large", 1600, "webp", 75),
]
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif")


def photos(corpus: str) -> list[str]:
    return sorted(os.path.join(root, name) for root, _, names in os.walk(corpus) for name in names
                  if name.lower().endswith(EXTENSIONS))


def reference_job(arguments: tuple[str, str]) -> None:
    """One photo, decode once: the largest variant by thumbnail_buffer, the others resized from it."""
    import pyvips
    source, out_dir = arguments
    stem = os.path.splitext(os.path.basename(source))[0]
    target = os.path.join(out_dir, stem)
    os.makedirs(target, exist_ok=True)
    with open(source, "rb") as file:
        data = file.read()
    largest = max(width for _, width, _, _ in CANONICAL)
    base = pyvips.Image.thumbnail_buffer(data, largest, height=10_000_000, size="down")
    if base.get_typeof("icc-profile-data") != 0:  # an embedded profile: to sRGB (without one, pixels are sRGB)
        base = base.icc_transform("srgb", intent="relative")
    if base.format != "uchar":
        base = base.cast("uchar")
    base = base.copy_memory()  # read by several variants
    # libvips 8.14 ignores `strip` when saving WebP (libvips#3340): drop the metadata fields themselves (the
    # exif-ifd* ones too, from which libvips would rebuild the EXIF block).
    for field in base.get_fields():
        if field.startswith(("exif-", "xmp-", "iptc-", "icc-", "jpeg-thumbnail")):
            base.remove(field)
    for variant_id, width, extension, quality in CANONICAL:
        image = base if width >= base.width else base.resize(width / base.width, kernel="lanczos3")
        if extension == "jpg":
            if image.hasalpha():
                image = image.flatten(background=[255, 255, 255])
            image.jpegsave(os.path.join(target, f"{variant_id}.jpg"), Q=quality, strip=True)
        else:
            image.webpsave(os.path.join(target, f"{variant_id}.webp"), Q=quality, effort=4, strip=True)


def initialise_reference() -> None:
    import pyvips
    pyvips.cache_set_max(0)  # concurrency: VIPS_CONCURRENCY=1, inherited from the parent


def run_reference(files: list[str], out_dir: str) -> None:
    with multiprocessing.get_context("spawn").Pool(2, initializer=initialise_reference) as pool:
        list(pool.imap_unordered(reference_job, [(file, out_dir) for file in files], chunksize=1))


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(run) -> tuple[float, float]:
    cpu, wall = children_cpu_seconds(), time.monotonic()
    run()
    return time.monotonic() - wall, children_cpu_seconds() - cpu


def compare(pixelflow_dir: str, reference_dir: str) -> dict:
    """Per variant: dimensions, size ratio (PixelFlow / reference), mean absolute difference and PSNR."""
    import pyvips
    rows = []
    for stem in sorted(os.listdir(reference_dir)):
        for variant_id, _, extension, _ in CANONICAL:
            ours = os.path.join(pixelflow_dir, stem, f"{variant_id}.{extension}")
            theirs = os.path.join(reference_dir, stem, f"{variant_id}.{extension}")
            if not os.path.exists(ours):
                rows.append({"stem": stem, "variant": variant_id, "missing": True})
                continue
            a, b = pyvips.Image.new_from_file(ours), pyvips.Image.new_from_file(theirs)
            row = {"stem": stem, "variant": variant_id, "same_size": (a.width, a.height) == (b.width, b.height),
                   "bytes_ratio": os.path.getsize(ours) / os.path.getsize(theirs)}
            if row["same_size"]:
                a, b = a.colourspace("srgb")[:3].cast("float"), b.colourspace("srgb")[:3].cast("float")
                difference = (a - b).abs()
                mean = difference.avg()
                mse = ((a - b) ** 2).avg()
                row["mean_abs_diff"] = mean
                row["psnr_db"] = 99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse)
            rows.append(row)
    compared = [row for row in rows if row.get("same_size")]
    by_variant = {}
    for variant_id, *_ in CANONICAL:
        mine = [row for row in compared if row["variant"] == variant_id]
        if mine:
            by_variant[variant_id] = {
                "bytes_ratio_median": round(statistics.median(row["bytes_ratio"] for row in mine), 3),
                "bytes_ratio_range": [round(min(row["bytes_ratio"] for row in mine), 3),
                                      round(max(row["bytes_ratio"] for row in mine), 3)],
                "mean_abs_diff_median": round(statistics.median(row["mean_abs_diff"] for row in mine), 3),
                "mean_abs_diff_max": round(max(row["mean_abs_diff"] for row in mine), 3),
                "psnr_db_min": round(min(row["psnr_db"] for row in mine), 1),
            }
    return {"variants": len(rows), "missing": sum(1 for row in rows if row.get("missing")),
            "different_dimensions": sum(1 for row in rows if not row.get("missing") and not row["same_size"]),
            "by_variant": by_variant}


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    bin_dir, corpus = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    os.environ["VIPS_CONCURRENCY"] = "1"  # one libvips thread per process, as the engine runs one per job
    files = photos(corpus)
    work = tempfile.mkdtemp(prefix="pf-pyvips.")
    results = {"pixelflow": [], "pyvips": []}
    try:
        for round_index in range(rounds):
            order = ["pixelflow", "pyvips"] if round_index % 2 == 0 else ["pyvips", "pixelflow"]
            for name in order:
                out_dir = os.path.join(work, name)
                shutil.rmtree(out_dir, ignore_errors=True)
                os.makedirs(out_dir)
                if name == "pixelflow":
                    command = [f"{bin_dir}/pixelflow", "process", "--threads", "2", "-o", out_dir, *files]
                    wall, cpu = timed(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))
                else:
                    wall, cpu = timed(lambda: run_reference(files, out_dir))
                results[name].append({"images_per_second": len(files) / wall, "cpu_ms_per_image": 1000 * cpu / len(files)})
                print(f"round {round_index + 1} {name}: {len(files) / wall:.2f} images/s, "
                      f"{1000 * cpu / len(files):.0f} CPU-ms per image", file=sys.stderr)
        pixelflow_rate = statistics.median(r["images_per_second"] for r in results["pixelflow"])
        pyvips_rate = statistics.median(r["images_per_second"] for r in results["pyvips"])
        ratios = [a["images_per_second"] / b["images_per_second"]
                  for a, b in zip(results["pixelflow"], results["pyvips"])]
        report = {
            "images": len(files), "rounds": rounds,
            "pixelflow_images_per_second": round(pixelflow_rate, 2),
            "pyvips_images_per_second": round(pyvips_rate, 2),
            "ratio_of_medians": round(pixelflow_rate / pyvips_rate, 3),
            "median_of_round_ratios": round(statistics.median(ratios), 3),
            "cpu_ms_per_image": {name: round(statistics.median(r["cpu_ms_per_image"] for r in runs))
                                 for name, runs in results.items()},
            "output": compare(os.path.join(work, "pixelflow"), os.path.join(work, "pyvips")),
        }
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
