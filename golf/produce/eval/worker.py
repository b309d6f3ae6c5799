"""The process that runs a record's own code for `golf eval` (never part of static verification).

Run as `python -m golf.produce.eval.worker --script ... --artifact ... --events-fd N ...` with the record
folder as its working directory. It checks the script again (golf.produce.eval.script_check: nothing
runs at import, a self-extracting wrapper is unpacked as data), imports it under a module name other
than "__main__", and gets logits either from the script's `load_model_for_eval(artifact, device)` and
`model.forward_logits`, or from golf's built-in loaders (golf.produce.eval.loaders) in two numerics, the
record's own and float32. It scores them with golf.produce.eval.evaluate and reports to its parent as
JSON lines on the file descriptor `--events-fd`:
  {"event": "loaded", "info": {...}}   {"event": "phase", "mode": ..., "numerics": ..., "total": n}
  {"event": "progress", "done": k}     {"event": "result", "result": {...}}
The record's own prints go to this process's stdout/stderr, which the parent keeps apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

DEFAULT_SEQ_LEN = 1024
CPU_BATCH_TOKENS = 65_536       # logits of 64 sequences of 1,024 over a 1,024 vocabulary: 256 MiB in float32
CUDA_BATCH_TOKENS = 1_048_576


class _Events:
    def __init__(self, fd: int):
        self._file = os.fdopen(fd, "w", buffering=1)

    def send(self, **event) -> None:
        self._file.write(json.dumps(event) + "\n")
        self._file.flush()

    def progress_for(self, mode: str, stride, numerics: str = ""):
        started = [False]

        def report(done: int, total: int) -> None:
            if not started[0]:
                started[0] = True
                self.send(event="phase", mode=mode, stride=stride, numerics=numerics, total=total)
            self.send(event="progress", done=done)
        return report


def _positive(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m golf.produce.eval.worker")
    parser.add_argument("--script", required=True, type=Path)
    parser.add_argument("--artifact", required=True, type=Path)
    parser.add_argument("--data-path", required=True, type=Path)
    parser.add_argument("--tokenizer-path", required=True, type=Path)
    parser.add_argument("--seq-len", type=int, default=None)
    parser.add_argument("--batch-tokens", type=int, default=None)
    parser.add_argument("--batch-seqs", type=int, default=None)
    parser.add_argument("--stride", type=int, default=None)
    parser.add_argument("--explicit-stride", action="store_true", help="--stride came from the user")
    parser.add_argument("--standard", action="store_true", help="score the standard pass with an explicit stride")
    parser.add_argument("--numerics", choices=("both", "record", "float32"), default="both")
    parser.add_argument("--vocab-size", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--events-fd", required=True, type=int)
    return parser.parse_args(argv)


def _set_threads() -> int:
    import torch

    wanted = os.environ.get("OMP_NUM_THREADS", "").strip()
    threads = int(wanted) if wanted.isdigit() and int(wanted) > 0 else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    return threads


def _plan(args, hp) -> tuple[int, int | None, list]:
    """Sequence length, stride and the passes: --options first, else the script's own Hyperparameters."""
    seq_len = args.seq_len or _positive(getattr(hp, "eval_seq_len", None)) \
        or _positive(getattr(hp, "train_seq_len", None)) or DEFAULT_SEQ_LEN
    stride = args.stride if args.stride is not None else _positive(getattr(hp, "eval_stride", None))
    if stride is not None and stride <= 0:
        stride = None
    if stride is not None and stride > seq_len:
        raise RuntimeError(f"the stride {stride} exceeds the sequence length {seq_len}")
    modes = []
    if stride is None or not args.explicit_stride or args.standard:
        modes.append(None)
    if stride is not None:
        modes.append(stride)
    return seq_len, stride, modes


def _batch_seqs(args, seq_len: int) -> int:
    if args.batch_seqs:
        return args.batch_seqs
    tokens = args.batch_tokens or (CUDA_BATCH_TOKENS if args.device.startswith("cuda") else CPU_BATCH_TOKENS)
    return max(1, tokens // seq_len)


def _logits_functions(args, module, info, hp) -> tuple[list, dict]:
    """(numerics name, logits function, description) for each requested numerics, and how the model was loaded."""
    from golf.produce.eval import loaders

    if info.has_interface:
        model = module.load_model_for_eval(str(args.artifact), args.device)
        forward = getattr(model, "forward_logits", None)
        if not callable(forward):
            raise RuntimeError(f"the model from {args.script.name}'s load_model_for_eval has no forward_logits")
        return [("interface", forward, "as the script's load_model_for_eval returns it")], \
            {"loader": "load_model_for_eval (the script's evaluator interface)", "logits": "forward_logits"}
    model, how = loaders.load_record_model(module, info, hp, args.artifact)
    wanted = {"both": ("record", "float32"), "record": ("record",), "float32": ("float32",)}[args.numerics]
    functions, logits_from = [], None
    for name in wanted:
        numerics = loaders.record_numerics(info) if name == "record" else loaders.Numerics("float32", False, False)
        fn, logits_from = loaders.logits_function(model, module, numerics, args.device)
        functions.append((name, fn, numerics.describe()))
    how.update(loader="golf's built-in loader (the script's GPT, Hyperparameters and dequantizer)",
               logits=logits_from, shape=loaders.shape_settings(hp))
    return functions, how


def run(args, events: _Events) -> None:
    from golf.data.bytecount import ByteTables
    from golf.data.shards import load_validation_tokens
    from golf.produce.eval import loaders
    from golf.produce.eval.evaluate import evaluate
    from golf.produce.eval.script_check import describe_script

    threads = _set_threads()
    info = describe_script(args.script)
    notes = []
    if info.flash_attn and not args.device.startswith("cuda"):
        notes.append(loaders.install_flash_attn_standin())
    if info.wrapped:
        notes.append("the script is a self-extracting wrapper: its lzma+base85 payload was unpacked as data")
    from golf.produce.safe_env import bound_decompression

    bound_decompression()  # the record's loader inflates its artifact: a bomb must not fill the memory
    module = loaders.import_script(info)
    hp = loaders.hyperparameters(module)
    seq_len, stride, modes = _plan(args, hp)
    functions, how = _logits_functions(args, module, info, hp)
    tokens = load_validation_tokens(str(args.data_path / "fineweb_val_*.bin"), seq_len)
    vocab_size = args.vocab_size or _positive(getattr(hp, "vocab_size", None))
    tables = ByteTables.from_sentencepiece(str(args.tokenizer_path), vocab_size=vocab_size)
    batch_seqs = _batch_seqs(args, seq_len)
    events.send(event="loaded", info={**how, "notes": notes, "seq_len": seq_len, "stride": stride,
                                      "batch_seqs": batch_seqs, "threads": threads, "device": args.device,
                                      "numerics": {name: text for name, _, text in functions}})
    for name, fn, _ in functions:
        for mode_stride in modes:
            mode = "standard" if mode_stride is None else "sliding"
            result = evaluate(fn, tokens, tables, seq_len, batch_seqs, stride=mode_stride, device=args.device,
                              progress=events.progress_for(mode, mode_stride, name))
            events.send(event="result", result={**result.to_dict(), "numerics": name})


def main(argv=None) -> int:
    args = _parse(argv)
    events = _Events(args.events_fd)
    try:
        run(args, events)
    except BaseException as error:  # noqa: BLE001 - everything the record code raises is reported, then exit 1
        if isinstance(error, SystemExit) and error.code in (0, None):
            error = RuntimeError("the record's script called exit() during evaluation")
        from golf.errors import GolfError

        if isinstance(error, GolfError):
            message = str(error)  # golf's own explanation, one line: no traceback needed
        else:
            traceback.print_exc(file=sys.stderr)
            message = f"{type(error).__name__}: {error}"
        print(f"golf-eval-worker: error: {message}", file=sys.stderr, flush=True)
        events.send(event="error", message=message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
