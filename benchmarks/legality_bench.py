"""Time of the score-first legality analysis (G404/G405/G406) on real record folders.

    .venv/bin/python benchmarks/legality_bench.py [--repeats 5] [CORPUS_DIR ...]

For each record folder (default: ../shared/corpus/parameter-golf and ../shared/corpus/legality), the
median over repeats of golf.judge.legality.analyse (unpack, parse, read the logs, judge), and of
`ast.parse` of the same script alone for scale. Prints one line per folder and the totals.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from golf.judge.legality import analyse  # noqa: E402
from golf.read.records import find_record_dirs, load_record  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        default=[CORPUS / "parameter-golf", CORPUS / "legality"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    totals: dict[str, list[float]] = {}
    for base in args.paths:
        for folder in find_record_dirs(base):
            record = load_record(folder)
            if record.script is None:
                continue
            text = (folder / record.script).read_text(encoding="utf-8")
            logs = [log.path for log in record.logs]
            judged = median_time(lambda: analyse(record.script, text, folder, logs), args.repeats)
            parsed = median_time(lambda: ast.parse(text), args.repeats)
            totals.setdefault(base.name, []).append(judged)
            totals.setdefault(base.name + " (ast.parse only)", []).append(parsed)
            print(f"{folder.name:60s} analyse {judged * 1000:7.1f} ms   ast.parse {parsed * 1000:6.1f} ms")
    for name, times in totals.items():
        print(f"total {name}: {sum(times):.3f} s over {len(times)} folders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
