"""Benchmark static `golf verify` as a user runs it: a fresh interpreter per call.

Each figure is the median over --repeats fresh processes of wall time and CPU time (user + system, from
the kernel's accounting of the finished child), beside `python -c pass` measured the same way, so a loaded
machine shows in the baseline too. The cache folder (.golf_cache/) is a scratch one: "cold" empties it
before every call, "warm" fills it once first.

Targets: one record folder <= 0.3 s (issue 23; 0.5 s in issue 6); the CaseOps folder of the corpus, which
needs the whole frontier of its track, <= 1.0 s warm and <= 3 s cold; the 16 corpus folders in one call
<= 1.0 s warm; 60 folders in one call < 5 s. Uses the challenge corpus when present
(../shared/corpus/parameter-golf), else record folders built by the test kit.
Optionally (--big-log) also times a folder holding a 1 GB log.

    python benchmarks/verify_bench.py [--repeats 7] [--big-log]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "parameter-golf"


def timed(args: list[str], repeats: int, cache: Path | None = None, cold: bool = False,
          command: list[str] | None = None) -> tuple[float, float, list[float], int]:
    """(median wall s, median CPU s, wall times, last exit status) of `python -m golf <args>` (or `command`)
    over `repeats` fresh processes; the cache folder is emptied before each call when `cold`."""
    walls, cpus = [], []
    status = 0
    env = dict(os.environ)
    if cache is not None:
        env["GOLF_CACHE_DIR"] = str(cache)
    for _ in range(repeats):
        if cold and cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(command or [sys.executable, "-m", "golf", *args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        status = result.returncode
        if status not in (0, 1):
            raise SystemExit(f"golf {' '.join(args)} failed ({status}): {result.stderr}")
    return statistics.median(walls), statistics.median(cpus), walls, status


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


def report(label: str, measured, target: float | None, baseline=None) -> None:
    wall, cpu, walls, _ = measured
    verdict = "" if target is None else f" (target <= {target} s: {'OK' if wall <= target else 'MISSED'})"
    against = f", {wall / baseline[0]:.1f}x python -c pass" if baseline else ""
    print(f"{label}: median wall {wall:.3f} s, cpu {cpu:.3f} s{against}{verdict}; "
          f"runs: {', '.join(f'{t:.3f}' for t in walls)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="fresh processes per measurement")
    parser.add_argument("--big-log", action="store_true", help="also time a folder with a 1 GB log")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="golf-verify-bench-") as tmp:
        scratch = Path(tmp)
        cache = scratch / ".golf_cache"
        folders = source_folders(scratch)
        print(f"python {sys.version.split()[0]}; {len(folders)} source folders from "
              f"{'the corpus' if CORPUS.is_dir() else 'the test kit'}; medians of {args.repeats} fresh processes")
        timed(["--help"], 1)  # warm the file cache
        baseline = timed([], args.repeats, command=[sys.executable, "-c", "pass"])
        report("python -c pass", baseline, None)
        by_name = {f.name: f for f in folders}
        singles = [by_name.get("2026-03-17_NaiveBaseline", folders[0]),
                   by_name.get("2026-03-29_HNet_ByteVsSubword_Study", folders[-1])]
        for folder in singles:
            timed(["verify", str(folder)], 1, cache)
            report(f"one folder, warm ({folder.parent.name}/{folder.name})",
                   timed(["verify", str(folder)], args.repeats, cache), 0.3, baseline)
        caseops = by_name.get("2026-04-18_PR1626_CaseOps_Taper")
        if caseops is not None:
            report("CaseOps folder, cold cache", timed(["verify", str(caseops)], max(3, args.repeats // 2), cache,
                                                       cold=True), 3.0, baseline)
            timed(["verify", str(caseops)], 1, cache)
            report("CaseOps folder, warm cache", timed(["verify", str(caseops)], args.repeats, cache), 1.0, baseline)
        if CORPUS.is_dir():
            timed(["verify", str(CORPUS)], 1, cache)
            report(f"all {len(folders)} corpus folders in one call, warm",
                   timed(["verify", str(CORPUS)], args.repeats, cache), 1.0, baseline)
        tree = build_tree(folders, scratch / "records", 60)
        timed(["verify", str(tree), "--json"], 1, cache)
        report("60 folders in one call, warm", timed(["verify", str(tree), "--json"], max(3, args.repeats // 2),
                                                     cache), 5.0, baseline)
        if args.big_log:
            big = scratch / "big" / "track_10min_16mb" / "2026-05-01_BigLog"
            shutil.copytree(singles[0], big)
            with open(big / "huge.log", "w") as handle:
                line = "step:1/20000 train_loss:2.5000 train_time:43ms step_avg:43.00ms\n" * 20_000
                while handle.tell() < 1_000_000_000:
                    handle.write(line)
            report("folder with a 1 GB log", timed(["verify", str(big), "--json"], 1, cache), None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
