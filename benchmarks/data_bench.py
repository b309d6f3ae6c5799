"""Throughput of the data layer on the bundled smoke dataset: shard reading and byte counting.

    .venv/bin/python benchmarks/data_bench.py [--repeats 7] [--tokens 20000000] [--root DIR]

Reports the median over repeats (single process, single thread) of:
- read: read_shard (validate + memory-map) and copy every token into memory, in tokens/s (page cache warm);
- target_bytes: per-token byte counts for (prev, target) pairs, in tokens/s, on the smoke train
  tokens tiled to --tokens tokens (uint16 ids, as the evaluator passes them);
- stream_bytes: the same plus the int64 sum.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from golf.data.bytecount import ByteTables, stream_bytes, target_bytes  # noqa: E402
from golf.data.shards import read_shard  # noqa: E402
from golf.data.smoke import ensure_smoke  # noqa: E402


def median_seconds(fn, repeats: int) -> float:
    """Median wall time; also remembers the median CPU time of this process (robust on a busy machine)."""
    fn()  # warm up (page cache, allocator)
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    median_seconds.cpu = statistics.median(cpu)
    return statistics.median(wall)


def report(label: str, tokens: int, seconds: float, extra: str = "") -> None:
    cpu = median_seconds.cpu
    cpu_rate = f"{tokens / cpu / 1e6:,.1f}" if cpu > 0 else "n/a"
    print(f"{label:<13} {tokens:,} tokens: wall {seconds * 1e3:.2f} ms -> {tokens / seconds / 1e6:,.1f} M tokens/s; "
          f"cpu {cpu * 1e3:.2f} ms -> {cpu_rate} M tokens/s{extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per measurement (default 7)")
    parser.add_argument("--tokens", type=int, default=20_000_000, help="tokens for the byte-count runs")
    parser.add_argument("--root", type=Path, help="where to materialise the smoke data (default: a temp dir)")
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    with tempfile.TemporaryDirectory(prefix="golf-bench-") as tmp:
        data, model = ensure_smoke(args.root or Path(tmp))
        shards = sorted(data.glob("fineweb_*.bin"))
        total = sum(read_shard(p).size for p in shards)

        def read_all():
            for path in shards:
                np.array(read_shard(path))

        report("read", total, median_seconds(read_all, args.repeats))

        tables = ByteTables.from_sentencepiece(model)
        train = np.asarray(read_shard(data / "fineweb_train_000000.bin"))
        tokens = np.resize(train, args.tokens + 1)
        prev, target = tokens[:-1], tokens[1:]
        report("target_bytes", args.tokens, median_seconds(lambda: target_bytes(tables, prev, target), args.repeats))
        report("stream_bytes", args.tokens, median_seconds(lambda: stream_bytes(tables, tokens), args.repeats),
               f" ({stream_bytes(tables, tokens) / args.tokens:.3f} bytes/token)")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
