"""`manage.py recluster` at scale: wall time and peak memory of the whole rebuild, with its progress lines.

    .venv/bin/python bench/recluster_scale.py                  # the 100 k bench data set
    .venv/bin/python bench/recluster_scale.py --count 1000000  # the 1 M one (bench_pins_1m)

The rebuild writes clusters, so it runs on its own copy of the generated bench database (`<source>_recluster`,
made with CREATE DATABASE … TEMPLATE), never on the data set the other benches read.

Embeddings. The generated pins repeat 400 template texts (bench/generate_pins.py), and encoding a million
distinct texts with e5 would take hours on 2 cores. So each distinct text is encoded once, for real, and each
pin stores that vector plus Gaussian noise of norm --noise (0.35: two pins of one template end ~0.89 apart in
cosine, about what e5 gives two wordings of one need). The figures are the rebuild's cost on data of this
shape; the number of clusters says how much work the first pass and the merging had.

Printed: the command's progress lines with the elapsed time, then its wall time and peak resident memory
(ru_maxrss of the child process), and RESULT lines for run_all.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate_pins import ensure_pins, use_bench_database  # noqa: E402
from bench.run_all import emit  # noqa: E402

SEED = 5


def copy_database(db: dict) -> str:
    """A fresh copy of the bench database for the rebuild to write into (from the maintenance database:
    a template must have no connection)."""
    import psycopg

    source, target = db["NAME"], f"{db['NAME']}_recluster"
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None,
                         dbname="postgres", autocommit=True) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{target}"')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    return target


def store_embeddings(noise: float) -> tuple[int, int]:
    """Every visible pin gets its template's real e5 vector plus noise (see the docstring)."""
    from django.db import connection

    from carto.clustering import embeddings as e5

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE carto_pinembedding")
        cursor.execute("SELECT DISTINCT text FROM carto_pin")
        texts = [text for (text,) in cursor.fetchall()]
    vectors = {}
    for start in range(0, len(texts), 32):
        part = texts[start : start + 32]
        vectors.update(zip(part, e5.encode_raw(part), strict=True))
    rng = np.random.default_rng(SEED)
    written = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, text FROM carto_pin ORDER BY id")
        rows = cursor.fetchall()
        with cursor.copy("COPY carto_pinembedding (pin_id, vector) FROM STDIN") as copy:
            for start in range(0, len(rows), 20000):
                part = rows[start : start + 20000]
                base = np.stack([vectors[text] for _, text in part])
                jitter = rng.normal(size=base.shape).astype(np.float32)
                jitter *= noise / np.linalg.norm(jitter, axis=1, keepdims=True)
                for (pin_id, _), raw in zip(part, base + jitter, strict=True):
                    copy.write_row((pin_id, e5.pack(raw)))
                written += len(part)
    return written, len(texts)


def run_recluster(database_url: str) -> tuple[float, float, list[str]]:
    """`manage.py recluster` in a child process: (seconds, peak RSS in MB, progress lines)."""
    # Every core for the rebuild's matrix products (the web processes' default is one thread each).
    env = {**os.environ, "DATABASE_URL": database_url, "CARTO_LOG_LEVEL": "WARNING",
           "CARTO_DB_STATEMENT_TIMEOUT_MS": "0", "OPENBLAS_NUM_THREADS": str(os.cpu_count() or 1)}  # fmt: skip
    started = time.perf_counter()
    lines = []
    with subprocess.Popen(
        [sys.executable, "manage.py", "recluster"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        for line in process.stdout:
            stamped = f"[{time.perf_counter() - started:7.1f} s] {line.rstrip()}"
            print(stamped, flush=True)
            lines.append(stamped)
    if process.returncode:
        raise SystemExit(f"recluster failed with status {process.returncode}")
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mb, lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--noise", type=float, default=0.35)
    args = parser.parse_args()
    use_bench_database()
    ensure_pins(args.count, 200)

    from django.db import connection

    connection.close()
    target = copy_database(connection.settings_dict)
    connection.settings_dict["NAME"] = target
    started = time.perf_counter()
    pins, templates = store_embeddings(args.noise)
    print(
        f"{pins} embeddings stored ({templates} templates encoded) in {time.perf_counter() - started:.0f} s"
    )
    db = connection.settings_dict
    connection.close()
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgis://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{target}"
    seconds, peak_mb, _ = run_recluster(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(pin_count), sum(pin_count) FROM carto_cluster")
        clusters, largest, clustered = cursor.fetchone()
    print(f"recluster: {clustered} visible pins -> {clusters} clusters (largest {largest}) in {seconds:.0f} s,"
          f" peak memory {peak_mb:.0f} MB")  # fmt: skip
    emit("recluster", f"manage.py recluster, {clustered} visible pins: wall time (ms); peak RSS {peak_mb:.0f} MB",
         seconds * 1000, None, None, "(reported)", None)  # fmt: skip


if __name__ == "__main__":
    main()
