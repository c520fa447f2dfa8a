"""`make bench`: generate the bench data set once, run every bench, print one table of ratios.

    .venv/bin/python bench/run_all.py            # CI mode: 100 000 pins
    .venv/bin/python bench/run_all.py --full     # 1 000 000 pins (database bench_pins_1m)

Each bench runs in its own process against the same database (CARTO_BENCH_DATABASE, default
bench_pins), generated here first by bench/generate_pins.py. Every figure is a ratio against a
baseline measured in the same run (the machine is shared: absolute times mean little).
Our benches print `RESULT` lines (see emit()); bench/tiles.py's table and bench/clustering.py's
summary lines are parsed. bench/clustering.py `speed` creates and drops its own database, so it
gets a separate name: it must never be pointed at the shared bench database.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "RESULT\t"


def emit(bench: str, measure: str, ours: float, baseline: float | None, ratio: float | None, target: str,
         met: bool | None) -> None:  # fmt: skip
    """Print one machine-readable result line for run_all (times in ms)."""
    fields = [bench, measure, f"{ours:.2f}", "" if baseline is None else f"{baseline:.2f}",
              "" if ratio is None else f"{ratio:.2f}", target, "" if met is None else ("yes" if met else "NO")]  # fmt: skip
    print(PREFIX + "\t".join(fields), flush=True)


# bench/tiles.py rows (measure, ours, baseline, ratio) and their targets from the tiles issue.
TILE_TARGETS = {
    "tiles z12-z16 p50 (endpoint / bare ST_AsMVT)": ("<= 1.3x", lambda r: r <= 1.3),
    "tiles z12-z16 p95 (endpoint / bare ST_AsMVT)": ("<= 1.5x", lambda r: r <= 1.5),
    "p95 z8-z11 / p95 z14-z16": ("<= 2x", lambda r: r <= 2),
    "p95 z8-z11: aggregated endpoint / naive all-points tile": (
        "<= 0.1x (>= 10x faster)",
        lambda r: r <= 0.1,
    ),
    "cache hit p50 / hello-world view": ("<= 1.2x", lambda r: r <= 1.2),
    "pin insert p50: with aggregates trigger / bare INSERT": ("<= 2x", lambda r: r <= 2),
}
_TILE_ROW = re.compile(r"^(?P<name>.+?)\s+(?P<ours>[\d.]+)\s+(?P<base>[\d.]+)\s+(?P<ratio>[\d.]+)$")
_CLUSTER_SPEED = re.compile(
    r"cluster_assign p95 ([\d.]+) ms, bare candidate query p95 ([\d.]+) ms, ratio ([\d.]+)x"
)
_CLUSTER_QUALITY = re.compile(
    r"RESULT cluster_quality (\S+) (\S+) P=([\d.]+) R=([\d.]+) F1=([\d.]+) ARI=([\d.]+)"
)


def run(script: str, *args: str, env: dict | None = None) -> tuple[str, float]:
    """Run one bench script; return its stdout (echoed) and wall time."""
    started = time.perf_counter()
    command = [sys.executable, str(ROOT / "bench" / script), *args]
    print(f"\n$ {' '.join(command[1:])}", flush=True)
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    out = done.stdout
    print("\n".join(line for line in out.splitlines() if not line.startswith(PREFIX)))
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        print(f"!! {script} failed with exit code {done.returncode}")
    return out, time.perf_counter() - started


def result_rows(out: str) -> list[list[str]]:
    return [line[len(PREFIX) :].split("\t") for line in out.splitlines() if line.startswith(PREFIX)]


def tile_rows(out: str) -> list[list[str]]:
    rows = []
    for line in out.splitlines():
        match = _TILE_ROW.match(line.strip())
        if match and match["name"].strip() in TILE_TARGETS:
            target, check = TILE_TARGETS[match["name"].strip()]
            ratio = float(match["ratio"])
            rows.append(["tiles", match["name"].strip(), match["ours"], match["base"], f"{ratio:.2f}", target,
                         "yes" if check(ratio) else "NO"])  # fmt: skip
    return rows


def clustering_rows(speed: str, quality: str) -> list[list[str]]:
    rows = []
    if match := _CLUSTER_SPEED.search(speed):
        rows.append(["clustering", "cluster_assign p95 / bare candidate query p95", match[1], match[2], match[3],
                     "(none set)", ""])  # fmt: skip
    for line in quality.splitlines():
        if (match := _CLUSTER_QUALITY.match(line.strip())) and match[1] == "production":
            rows.append(["clustering", f"labelled set, {match[2]} half: pairwise F1 (P {match[3]}, R {match[4]})",
                         match[5], "", "", "(quality, F1 >= 0.65)", ""])  # fmt: skip
    return rows


def print_table(rows: list[list[str]]) -> None:
    header = ["bench", "measure", "ours", "baseline", "ratio", "target", "met?"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:{'<' if i < 2 or i == 5 else '>'}{w}}}" for i, w in enumerate(widths))
    print("\n" + line.format(*header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="1 000 000 pins instead of 100 000")
    parser.add_argument("--skip", nargs="*", default=[], help="benches to leave out (pins_write, tiles, …)")
    args = parser.parse_args()
    count = 1_000_000 if args.full else 100_000
    # Each size has its own database: a --full run does not replace the CI data set.
    default_db = "bench_pins_1m" if args.full else "bench_pins"
    env = {"CARTO_BENCH_DATABASE": os.environ.get("CARTO_BENCH_DATABASE", default_db)}
    started = time.perf_counter()

    # Generate (or keep) the data set once; every bench below sees the same pins.
    subprocess.run(
        [sys.executable, "-c", "from bench.generate_pins import *; use_bench_database(); "
         f"ensure_pins({count}, 200)"], cwd=ROOT, env={**os.environ, **env}, check=True,
    )  # fmt: skip
    rows: list[list[str]] = []
    counted = ["--count", str(count)]
    if "pins_bbox" not in args.skip:
        rows += result_rows(run("pins_bbox.py", *counted, env=env)[0])
    if "pins_similar" not in args.skip:
        rows += result_rows(run("pins_similar.py", *counted, env=env)[0])
    if "pins_write" not in args.skip:
        rows += result_rows(run("pins_write.py", *counted, env=env)[0])
    if "tiles" not in args.skip:
        rows += tile_rows(run("tiles.py", *counted, env=env)[0])
    if "map_clusters" not in args.skip:
        rows += result_rows(run("map_clusters.py", *counted, env=env)[0])
    if "clusters_supercluster" not in args.skip:
        rows += result_rows(run("clusters_supercluster.py", *counted, env=env)[0])
    if "stats" not in args.skip:
        rows += result_rows(run("stats.py", *counted, env=env)[0])
    if "places" not in args.skip:
        rows += result_rows(run("places.py", env=env)[0])
    if "load" not in args.skip:
        # The mixed load with the job worker beside gunicorn: POST -> cluster assigned (on the bench data set).
        rows += result_rows(run("load.py", *counted, "--duration", "30", "--concurrency", "8", env=env)[0])
    if "recluster" not in args.skip:
        # Writes clusters: into its own copy of the data set (<database>_recluster).
        rows += result_rows(run("recluster_scale.py", *counted, env=env)[0])
    if "page_load" not in args.skip:
        rows += result_rows(run("page_load.py", env=env)[0])
    if "clustering" not in args.skip:
        # `speed` drops its database at the end: never the shared one. It times the TF-IDF candidate path
        # (the fallback); the e5 path's speed is not benched yet.
        speed, _ = run(
            "clustering.py", "speed", "--samples", "50",
            env={"CARTO_BENCH_DATABASE": "bench_clustering", "CARTO_CLUSTERING_METHOD": "tfidf"},
        )  # fmt: skip
        quality, _ = run("cluster_quality.py")
        rows += clustering_rows(speed, quality)
    print(
        f"\n{count:,} pins, {time.perf_counter() - started:.0f} s in all; times in ms, ratio = ours / baseline"
    )
    print_table(rows)


if __name__ == "__main__":
    main()
