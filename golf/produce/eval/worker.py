"""The process that runs a record's own code for `golf eval` (never part of static verification).

Run as `python -m golf.produce.eval.worker --script ... --artifact ... --events-fd N ...` with the record
folder as its working directory. It imports the record's script by path (under a module name
other than "__main__", so the documented interface promises no side effects), calls
`load_model_for_eval(artifact, device)`, and scores `model.forward_logits` with golf.produce.eval.evaluate.
It reports to its parent as JSON lines on the file descriptor `--events-fd`:
  {"event": "phase", "mode": ..., "total": n}   {"event": "progress", "done": k}
  {"event": "result", "result": {...}}
The record's own prints go to this process's stdout/stderr, which the parent keeps apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path

MODULE_NAME = "golf_record_script"


class _Events:
    def __init__(self, fd: int):
        self._file = os.fdopen(fd, "w", buffering=1)

    def send(self, **event) -> None:
        self._file.write(json.dumps(event) + "\n")
        self._file.flush()

    def progress_for(self, mode: str, stride):
        started = [False]

        def report(done: int, total: int) -> None:
            if not started[0]:
                started[0] = True
                self.send(event="phase", mode=mode, stride=stride, total=total)
            self.send(event="progress", done=done)
        return report


def import_script(path: Path):
    """Import the record's script as a module (its directory first on sys.path, for its helpers)."""
    from golf.produce.safe_env import bound_decompression

    bound_decompression()   # the record's loader inflates its artifact: a bomb must not fill the memory
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


def _script_vocab_size(module) -> int | None:
    value = getattr(getattr(module, "Hyperparameters", None), "vocab_size", None)
    return value if isinstance(value, int) and value > 0 else None


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m golf.produce.eval.worker")
    parser.add_argument("--script", required=True, type=Path)
    parser.add_argument("--artifact", required=True, type=Path)
    parser.add_argument("--data-path", required=True, type=Path)
    parser.add_argument("--tokenizer-path", required=True, type=Path)
    parser.add_argument("--seq-len", required=True, type=int)
    parser.add_argument("--batch-seqs", required=True, type=int)
    parser.add_argument("--stride", type=int, default=None)
    parser.add_argument("--vocab-size", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--events-fd", required=True, type=int)
    return parser.parse_args(argv)


def run(args, events: _Events) -> None:
    from golf.data.bytecount import ByteTables
    from golf.data.shards import load_validation_tokens
    from golf.produce.eval.evaluate import evaluate

    module = import_script(args.script)
    loader = getattr(module, "load_model_for_eval", None)
    if not callable(loader):
        raise RuntimeError(f"{args.script.name} defines no load_model_for_eval(artifact_path, device)")
    model = loader(str(args.artifact), args.device)
    forward = getattr(model, "forward_logits", None)
    if not callable(forward):
        raise RuntimeError(f"the model from {args.script.name}'s load_model_for_eval has no forward_logits")
    tokens = load_validation_tokens(str(args.data_path / "fineweb_val_*.bin"), args.seq_len)
    vocab_size = args.vocab_size or _script_vocab_size(module)
    tables = ByteTables.from_sentencepiece(str(args.tokenizer_path), vocab_size=vocab_size)
    modes = [None] + ([args.stride] if args.stride else [])
    for stride in modes:
        mode = "standard" if stride is None else "sliding"
        result = evaluate(forward, tokens, tables, args.seq_len, args.batch_seqs, stride=stride,
                          device=args.device, progress=events.progress_for(mode, stride))
        events.send(event="result", result=result.to_dict())


def main(argv=None) -> int:
    args = _parse(argv)
    events = _Events(args.events_fd)
    try:
        run(args, events)
    except BaseException as error:  # noqa: BLE001 - everything the record code raises is reported, then exit 1
        if isinstance(error, SystemExit) and error.code in (0, None):
            error = RuntimeError("the record's script called exit() during evaluation")
        traceback.print_exc(file=sys.stderr)
        message = f"{type(error).__name__}: {error}"
        print(f"golf-eval-worker: error: {message}", file=sys.stderr, flush=True)
        events.send(event="error", message=message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
