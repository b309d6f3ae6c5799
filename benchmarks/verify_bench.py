"""Benchmark static `golf verify` as a user runs it: a fresh interpreter per call.

Targets (issue 6): one record folder in < 0.5 s wall including interpreter start,
and 60 folders in one call in < 5 s. Uses the challenge corpus when present
(../shared/corpus/parameter-golf), else record folders built by the test kit.
Optionally (--big-log) also times a folder holding a 1 GB log.

    python benchmarks/verify_bench.py [--repeats 7] [--big-log]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "parameter-golf"


def timed(args: list[str], repeats: int) -> tuple[float, list[float], int]:
    """Median wall time of `python -m golf <args>` over `repeats` fresh processes."""
    times = []
    status = 0
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "golf", *args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - start)
        status = result.returncode
        if status not in (0, 1):
            raise SystemExit(f"golf {' '.join(args)} failed ({status}): {result.stderr}")
    return statistics.median(times), times, status


def source_folders(scratch: Path) -> list[Path]:
    if CORPUS.is_dir():
        return sorted(p for p in CORPUS.glob("*/*") if p.is_dir())
    sys.path.insert(0, str(REPO / "tests"))
    from fixtures.verify.kit import make_record

    base = scratch / "kit"
    return [make_record(base, f"2026-0{1 + i // 9}-{10 + i % 9:02d}_Kit{i}", bpbs=(1.2 - i / 100, 1.201 - i / 100,
                                                                                  1.199 - i / 100))
            for i in range(16)]


def build_tree(folders: list[Path], target: Path, count: int) -> Path:
    """`count` record folders under target/<track>/, copies of `folders` with a suffix per round."""
    made = 0
    copy = 0
    while made < count:
        for folder in folders:
            if made == count:
                break
            dest = target / folder.parent.name / f"{folder.name}_copy{copy}"
            shutil.copytree(folder, dest, symlinks=True)
            made += 1
        copy += 1
    return target


def report(label: str, median: float, times: list[float], target: float) -> None:
    verdict = "OK" if median < target else "MISSED"
    spread = ", ".join(f"{t:.3f}" for t in times)
    print(f"{label}: median {median:.3f} s (target < {target} s: {verdict}); runs: {spread}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="fresh processes per measurement")
    parser.add_argument("--big-log", action="store_true", help="also time a folder with a 1 GB log")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="golf-verify-bench-") as tmp:
        scratch = Path(tmp)
        folders = source_folders(scratch)
        print(f"python {sys.version.split()[0]}; {len(folders)} source folders from "
              f"{'the corpus' if CORPUS.is_dir() else 'the test kit'}")
        timed(["--help"], 1)  # warm the file cache
        by_name = {f.name: f for f in folders}
        singles = [by_name.get("2026-03-23_LeakyReLU_LegalTTT_ParallelMuon", folders[-1]),
                   by_name.get("2026-03-29_HNet_ByteVsSubword_Study", folders[0])]
        for folder in singles:
            median, times, _ = timed(["verify", str(folder), "--json"], args.repeats)
            report(f"one folder ({folder.parent.name}/{folder.name})", median, times, 0.5)
        tree = build_tree(folders, scratch / "records", 60)
        median, times, _ = timed(["verify", str(tree), "--json"], max(3, args.repeats // 2))
        report("60 folders in one call", median, times, 5.0)
        if args.big_log:
            big = scratch / "big" / "track_10min_16mb" / "2026-05-01_BigLog"
            shutil.copytree(singles[0], big)
            with open(big / "huge.log", "w") as handle:
                line = "step:1/20000 train_loss:2.5000 train_time:43ms step_avg:43.00ms\n" * 20_000
                while handle.tell() < 1_000_000_000:
                    handle.write(line)
            median, times, _ = timed(["verify", str(big), "--json"], 1)
            print(f"folder with a 1 GB log: {median:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
