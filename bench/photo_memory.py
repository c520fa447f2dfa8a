"""Peak memory of one photo upload's cleaning (carto.photos.photo_clean), against a baseline run.

    .venv/bin/python bench/photo_memory.py

Each case runs in a fresh process (Pillow's pixel buffers are C memory, invisible to tracemalloc): the
process's peak resident set (VmHWM) after cleaning one photo, minus that of the same process that
only decodes nothing (the baseline: Python, Django-free carto.photos and Pillow imported). Ratio = ours /
baseline. A refused photo should cost nothing above the baseline.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# VmHWM (peak resident set) from /proc: unlike ru_maxrss it starts afresh at exec, so the parent's own
# peak (generating the samples) does not leak into the child's figure.
CHILD = r"""
import io, sys
sys.path.insert(0, {root!r})
from PIL import Image
from carto.photos import photo_clean
from carto.errors import InvalidInput

def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

data = open({path!r}, "rb").read()
before = peak_kb()
outcome = "baseline"
if {clean}:
    try:
        outcome = "accepted %dx%d" % (lambda p: (p.width, p.height))(photo_clean(data))
    except InvalidInput as exc:
        outcome = "refused " + exc.code
after = peak_kb()
print(after, after - before, outcome)
"""


def sample(name: str, size: tuple[int, int], fmt: str, mode: str = "RGB") -> Path:
    from PIL import Image

    path = Path(tempfile.gettempdir()) / f"carto-photo-bench-{name}.{fmt.lower()}"
    if not path.exists():
        buffer = io.BytesIO()
        Image.new(mode, size, "white").save(buffer, fmt, **({"quality": 80} if fmt == "JPEG" else {}))
        path.write_bytes(buffer.getvalue())
    return path


def run(path: Path, clean: bool) -> tuple[int, int, str]:
    code = CHILD.format(root=str(ROOT), path=str(path), clean=clean)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1]), " ".join(out[2:])


def main() -> None:
    cases = [
        ("jpeg-12mpx", (4000, 3000), "JPEG"),
        ("jpeg-36mpx", (6000, 6000), "JPEG"),
        ("png-8mpx", (3264, 2448), "PNG"),
        ("png-36mpx", (6000, 6000), "PNG"),
        ("webp-8mpx", (3264, 2448), "WEBP"),
    ]
    print(
        f"{'case':14} {'file KB':>8} {'peak MB':>8} {'baseline MB':>11} {'above MB':>9} {'ratio':>6}  outcome"
    )
    for name, size, fmt in cases:
        path = sample(name, size, fmt)
        base_peak, _, _ = run(path, clean=False)
        peak, _, outcome = run(path, clean=True)
        above = (peak - base_peak) / 1024
        print(f"{name:14} {path.stat().st_size / 1024:8.0f} {peak / 1024:8.1f} {base_peak / 1024:11.1f} "
              f"{above:9.1f} {peak / base_peak:6.2f}  {outcome}")  # fmt: skip
        print(f"RESULT photo_memory {name} peak_mb={peak / 1024:.1f} above_baseline_mb={above:.1f} {outcome}")


if __name__ == "__main__":
    main()
