#!/usr/bin/env python3
"""Draws bench/scaling.sh's CSV: jobs/s against workers, with the ideal line and 0.9 of it (log-log axes).

    bench/plot_scaling.py scaling.csv docs/scaling.png        (needs python3-matplotlib)
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source: str, target: str) -> None:
    rows = list(csv.DictReader(open(source)))
    workers = [int(row["workers"]) for row in rows]
    measured = [float(row["jobs_per_s"]) for row in rows]
    ideal = [float(row["ideal"]) for row in rows]
    slots, work_ms = rows[0]["slots"], rows[0]["work_ms"]
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=110)
    axes.plot(workers, ideal, "--", color="grey", label="ideal (workers × slots / task time)")
    axes.plot(workers, [0.9 * value for value in ideal], ":", color="grey", label="0.9 × ideal")
    axes.plot(workers, measured, "o-", color="tab:blue", label="measured")
    for x, y, row in zip(workers, measured, rows):
        axes.annotate(f'{float(row["efficiency"]):.2f}', (x, y), textcoords="offset points", xytext=(0, -14),
                      ha="center", fontsize=8)
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(workers, [str(count) for count in workers])
    axes.set_xlabel(f"worker processes ({slots} slots each)")
    axes.set_ylabel("jobs/s through one coordinator")
    axes.set_title(f"Scale-out: null-engine workers, {work_ms} ms sleeping tasks (labels: measured / ideal)")
    axes.title.set_fontsize(10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(target)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: plot_scaling.py SCALING.csv OUT.png")
    main(sys.argv[1], sys.argv[2])
