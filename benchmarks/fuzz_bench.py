"""A long run of golf's fuzzing suite: the strategies of tests/test_fuzz.py with many more cases.

    python benchmarks/fuzz_bench.py [--scale N] [--random]

Runs `pytest tests/test_fuzz.py` with GOLF_FUZZ_SCALE=N (default 10: 4,100 cases; CI runs N=1,
410 cases) and prints the number of cases, the wall time and the outcome. Derandomized like CI
unless --random, which lets hypothesis draw fresh cases (a failure prints its reproduction).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10, help="multiplier of the CI case counts (default 10)")
    parser.add_argument("--random", action="store_true", help="draw fresh cases instead of the fixed CI ones")
    args = parser.parse_args()
    import test_fuzz  # noqa: E402  (for the per-test counts)

    cases = sum(test_fuzz.EXAMPLES.values()) * args.scale
    env = {**os.environ, "GOLF_FUZZ_SCALE": str(args.scale)}
    if args.random:
        env["GOLF_FUZZ_RANDOM"] = "1"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:warnings", "tests/test_fuzz.py"],
                          cwd=ROOT, env=env)
    elapsed = time.perf_counter() - start
    outcome = "nothing found" if proc.returncode == 0 else f"FAILURES (pytest exit status {proc.returncode})"
    print(f"fuzz: scale {args.scale}, {cases} cases ({', '.join(f'{k} {v * args.scale}' for k, v in test_fuzz.EXAMPLES.items())}), "
          f"{elapsed:.0f} s wall: {outcome}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
