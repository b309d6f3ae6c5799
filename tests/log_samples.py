"""Generated training logs, shared by the tests and benchmarks/parse_bench.py."""

from __future__ import annotations


def write_big_log(path, target_bytes: int) -> int:
    """A realistic stdout-style log of about `target_bytes`, written in chunks; returns its size."""
    header = ("world_size:8 grad_accum_steps:1\nseed:1337\n"
              "train_batch_tokens:524288 train_seq_len:1024 iterations:100000000 warmup_steps:20\n")
    written = 0
    step = 0
    with open(path, "w") as handle:
        handle.write(header)
        while written < target_bytes:
            chunk = []
            for _ in range(1000):
                step += 1
                if step % 100 == 0:
                    chunk.append(f"step:{step}/100000000 val_loss:2.{step % 9973:04d} val_bpb:1.{step % 9967:04d} "
                                 f"train_time:{step * 43}ms step_avg:43.00ms\n")
                elif step % 7 == 0:
                    chunk.append(f"ttt_progress: batch {step % 782}/782 batch_loss:2.7837 batch_bpb:1.1136 "
                                 "running_loss:2.7837 running_bpb:1.1136 doc_len:7961-8997\n")
                else:
                    chunk.append(f"step:{step}/100000000 train_loss:2.{step % 9973:04d} "
                                 f"train_time:{step * 43}ms step_avg:43.00ms\n")
            text = "".join(chunk)
            handle.write(text)
            written += len(text)
        handle.write(f"stopping_early: wallclock_cap train_time:{step * 43}ms step:{step}/100000000\n"
                     "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n")
    return path.stat().st_size
