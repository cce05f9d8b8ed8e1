#!/usr/bin/python3
"""Draws bench/scaling.sh's CSVs: jobs/s against workers (median of the runs, bars from the lowest to the highest),
with the ideal line and 0.9 of it, on log-log axes; prints the medians as a Markdown table.

    bench/plot_scaling.py docs/scaling.png run1.csv [run2.csv ...]   (Debian's python3-matplotlib: /usr/bin/python3)
"""
import csv
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(target: str, sources: list[str]) -> None:
    runs = [list(csv.DictReader(open(source))) for source in sources]
    first = runs[0]
    workers = [int(row["workers"]) for row in first]
    ideal = [float(row["ideal"]) for row in first]

    def column(name: str) -> list[list[float]]:
        return [[float(run[index][name]) for run in runs] for index in range(len(first))]

    rates, efficiencies = column("jobs_per_s"), column("efficiency")
    cores, idle = column("coordinator_cores"), column("machine_idle")
    medians = [statistics.median(values) for values in rates]
    low = [median - min(values) for median, values in zip(medians, rates)]
    high = [max(values) - median for median, values in zip(medians, rates)]

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=110)
    axes.plot(workers, ideal, "--", color="grey", label="ideal (workers × slots / task time)")
    axes.plot(workers, [0.9 * value for value in ideal], ":", color="grey", label="0.9 × ideal")
    axes.errorbar(workers, medians, yerr=[low, high], fmt="o-", color="tab:blue", capsize=3,
                  label=f"measured (median of {len(runs)} runs, min–max)")
    for x, y, values in zip(workers, medians, efficiencies):
        axes.annotate(f"{statistics.median(values):.2f}", (x, y), textcoords="offset points", xytext=(0, -16),
                      ha="center", fontsize=8)
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(workers, [str(count) for count in workers])
    axes.set_xlabel(f'worker processes ({first[0]["slots"]} slots each)')
    axes.set_ylabel("jobs/s through one coordinator")
    axes.set_title(f'Scale-out: null-engine workers, {first[0]["work_ms"]} ms sleeping tasks '
                   "(labels: measured / ideal)", fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(target)

    print("| workers | jobs/s | ideal | efficiency | coordinator (cores) | machine idle |")
    print("|---:|---:|---:|---:|---:|---:|")
    for index, count in enumerate(workers):
        print(f"| {count} | {medians[index]:,.0f} | {ideal[index]:,.0f} | "
              f"{statistics.median(efficiencies[index]):.2f} | {statistics.median(cores[index]):.2f} | "
              f"{statistics.median(idle[index]):.0%} |")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: plot_scaling.py OUT.png RUN.csv [RUN.csv ...]")
    main(sys.argv[1], sys.argv[2:])
