"""The child process of `golf legality`: run a record's own main() and record its losses.

    python -m golf.produce.legality.worker --script RUN/train_gpt.py --out OUT

runs with the run folder (a copy of the record) as its working directory and the environment the
parent chose (tiny shape, DATA_PATH with this run's validation stream). It checks and imports the
script as golf eval does (golf.produce.eval.script_check and loaders: nothing runs at import, a
wrapper is unpacked as data), puts the CPU stand-ins in place, calls `main()` under the loss
recorder, and writes OUT/calls.json, OUT/calls.npz and OUT/status.json (how far it got, and the
error when it failed). The record's prints go to this process's stdout and stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m golf.produce.legality.worker")
    parser.add_argument("--script", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args(argv)


def _imported_name(error: BaseException) -> str | None:
    """The name of `from MODULE import NAME` that MODULE lacks (an ImportError that is not a missing module)."""
    if isinstance(error, ImportError) and not isinstance(error, ModuleNotFoundError):
        text = str(error)
        if text.startswith("cannot import name "):
            return text.split("'")[1] if "'" in text else None
    return None


def _failure(stage: str, error: BaseException, calls: int, root: Path) -> dict:
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if f.filename.startswith(str(root) + "/")]  # the record's line, not golf's
    last = own[-1] if own else (frames[-1] if frames else None)
    return {"stage": stage, "error_type": type(error).__name__, "error": str(error)[:2000],
            "error_where": f"{Path(last.filename).name}:{last.lineno}" if last else None,
            "missing_module": getattr(error, "name", None) if isinstance(error, ImportError) else None,
            "missing_name": getattr(error, "name_from", None) or _imported_name(error),
            "calls_before_error": calls}


def run(args) -> dict:
    import torch

    from golf.errors import GolfError
    from golf.produce.eval import loaders
    from golf.produce.eval.script_check import describe_script
    from golf.produce.legality import standins
    from golf.produce.legality.capture import LossRecorder, save_calls

    torch.set_num_threads(1)
    torch.manual_seed(0)
    status: dict = {"stage": "check"}
    recorder = LossRecorder(str(args.script.parent))
    try:
        info = describe_script(args.script)
        status["notes"] = standins.install(info.flash_attn)
        if info.wrapped:
            status["notes"].append("the script is a self-extracting wrapper: its payload was unpacked as data; "
                                   "line numbers are the unpacked source's")
        status["stage"] = "import"
        with recorder:
            module = loaders.import_script(info)
            main = getattr(module, "main", None)
            if not callable(main):
                raise GolfError(f"{args.script.name} has no main() to run")
            status["stage"] = "run"
            try:
                main()
            except SystemExit as stop:
                if stop.code not in (0, None):
                    raise
        status["stage"] = "done"
    except BaseException as error:  # noqa: BLE001 - whatever the record's code raises is the answer
        if isinstance(error, KeyboardInterrupt):
            raise
        traceback.print_exc(file=sys.stderr)
        status.update(_failure(status["stage"], error, len(recorder.calls), args.script.parent))
    save_calls(recorder.calls, args.out)
    status["calls"] = len(recorder.calls)
    return status


def main(argv=None) -> int:
    args = _parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    status = run(args)
    (args.out / "status.json").write_text(json.dumps(status))
    return 0 if status["stage"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
