"""The parent side of `golf eval`: check the record statically, then score it in a worker process.

The record's script is first read with `ast` (never executed here) to see that it offers the
evaluator interface. The worker (golf.produce.eval.worker) runs with the record folder as its working
directory and the record's environment knobs, imports the script, and reports progress and
results as JSON lines on a pipe of its own, so the record's prints never mix with them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from golf.io import load_json_file
from golf.produce.safe_env import WORKER_MEMORY_BYTES, WORKER_TIMEOUT_S, limit_worker, record_knobs, user_knob
from golf.errors import GolfError
from golf.produce.eval.compare import log_knobs, pick_log
from golf.produce.eval.script_check import ScriptInfo, describe_script, loadable_problem

ARTIFACT_NAME = "final_model.int8.ptz"
STDERR_TAIL_LINES = 12


@dataclass
class EvalRequest:
    record_dir: Path
    script: Path
    artifact: Path
    data_path: Path
    tokenizer_path: Path
    seq_len: int | None          # None: the script's own (EVAL_SEQ_LEN / TRAIN_SEQ_LEN defaults)
    batch_seqs: int | None       # None: golf's default batch for the device
    stride: int | None           # an explicit --stride; else the script's EVAL_STRIDE
    device: str
    env: dict[str, str] = field(default_factory=dict)   # the full environment of the worker
    knobs: dict[str, str] = field(default_factory=dict)  # what came from the record, its log and --env
    knob_sources: dict[str, str] = field(default_factory=dict)
    standard: bool = False       # with an explicit --stride, also the standard pass
    numerics: str = "both"
    info: ScriptInfo | None = None
    log: object = None           # the RecordLog compared with, when one was found

    @classmethod
    def from_args(cls, args) -> "EvalRequest":
        record_dir = Path(args.record_dir)
        if not record_dir.is_dir():
            raise GolfError(f"{record_dir}: no such record folder")
        record_dir = record_dir.resolve()
        script = record_dir / args.script
        if not script.is_file():
            raise GolfError(f"{record_dir}: no {args.script} to load the model with")
        info = describe_script(script)
        problem = loadable_problem(info)
        if problem:
            raise GolfError(problem)
        artifact = Path(args.artifact).resolve() if args.artifact else record_dir / ARTIFACT_NAME
        if not artifact.is_file():
            hint = "" if args.artifact else " (run the record's script first, or pass --artifact)"
            raise GolfError(f"{artifact}: no such artifact file{hint}")
        log = _record_log(record_dir, artifact, getattr(args, "log", None))
        for key, value in args.env:  # (KEY, VALUE) pairs checked by golf.cli.options.env_item
            user_knob(key, value)
        knobs, sources = {}, {}
        for source, values in (("log", log_knobs(log.run if log else None, info.env_names)),
                               ("run.env", record_env(record_dir)), ("--env", dict(args.env))):
            knobs.update(values)
            sources.update({key: source for key in values})
        env = dict(os.environ)
        env.update(knobs)
        data_path, tokenizer_path = resolve_data(args.data_path, args.tokenizer_path, env, record_dir)
        env["DATA_PATH"], env["TOKENIZER_PATH"] = str(data_path), str(tokenizer_path)
        for name, value in (("--seq-len", args.seq_len), ("--batch-seqs", args.batch_seqs), ("--stride", args.stride)):
            if value is not None and value <= 0:
                raise GolfError(f"{name} must be positive (got {value})")
        if args.stride is not None and args.seq_len is not None and args.stride > args.seq_len:
            raise GolfError(f"--stride {args.stride} must not exceed the sequence length {args.seq_len}")
        return cls(record_dir, script, artifact, data_path, tokenizer_path, args.seq_len, args.batch_seqs,
                   args.stride, args.device, env, knobs, sources, bool(getattr(args, "standard", False)),
                   getattr(args, "numerics", "both"), info, log)


def _record_log(record_dir: Path, artifact: Path, wanted: str | None):
    """The record's log that wrote this artifact (see compare.pick_log); None without a readable one.
    `wanted` may also be the path of a log outside the record (a rerun's)."""
    from golf.read.records import load_record

    if wanted and Path(wanted).is_absolute() and Path(wanted).is_file():
        from types import SimpleNamespace

        from golf.read.logs import parse_log

        return SimpleNamespace(path=wanted, run=parse_log(wanted).run)

    try:
        record = load_record(record_dir)
    except GolfError:
        return None
    log = pick_log(record, artifact.stat().st_size, wanted)
    if wanted and log is None:
        raise GolfError(f"{record_dir}: no log {wanted!r} in the record (logs: "
                        f"{', '.join(l.path for l in record.logs) or 'none'})")
    return log


def _env_int(env: dict, key: str) -> int | None:
    value = env.get(key)
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise GolfError(f"environment knob {key}={value!r} is not an integer") from None


def record_env(record_dir: Path) -> dict[str, str]:
    """The environment knobs a record declares: submission.json's run.env object, when present."""
    path = record_dir / "submission.json"
    if not path.is_file():
        return {}
    try:
        data = load_json_file(path)
    except (OSError, ValueError):
        return {}  # a broken submission.json is static verification's finding, not ours
    run = data.get("run") if isinstance(data, dict) else None
    env = run.get("env") if isinstance(run, dict) else None
    if not isinstance(env, dict):
        return {}
    return record_knobs(env, f"{path} run.env")


def _env_path(value: str, record_dir: Path) -> Path:
    """A path from the environment: a relative one is looked up in the record folder first (the script
    runs there), else from the current directory."""
    path = Path(value)
    if not path.is_absolute() and (record_dir / path).exists():
        return (record_dir / path).resolve()
    return path.resolve()


def resolve_data(data_path, tokenizer_path, env: dict, record_dir: Path) -> tuple[Path, Path]:
    """--data-path/--tokenizer-path, else DATA_PATH/TOKENIZER_PATH, else the smoke dataset under the cwd."""
    from golf.data.smoke import SMOKE_DATASET, SMOKE_TOKENIZER

    def pick(option, key, default) -> Path:
        if option:
            return Path(option).resolve()
        if env.get(key):
            return _env_path(env[key], record_dir)
        return Path(default).resolve()

    data = pick(data_path, "DATA_PATH", SMOKE_DATASET)
    tokenizer = pick(tokenizer_path, "TOKENIZER_PATH", SMOKE_TOKENIZER)
    smoke_hint = "(run `golf data smoke` for the bundled smoke dataset, or pass {})"
    if not data.is_dir():
        raise GolfError(f"{data}: no such data folder {smoke_hint.format('--data-path')}")
    if not any(data.glob("fineweb_val_*.bin")):
        raise GolfError(f"{data}: no validation shards fineweb_val_*.bin")
    if not tokenizer.is_file():
        raise GolfError(f"{tokenizer}: no such tokenizer model {smoke_hint.format('--tokenizer-path')}")
    return data, tokenizer


def worker_command(request: EvalRequest, events_fd: int) -> list[str]:
    command = [sys.executable, "-m", "golf.produce.eval.worker",
               "--script", str(request.script), "--artifact", str(request.artifact),
               "--data-path", str(request.data_path), "--tokenizer-path", str(request.tokenizer_path),
               "--device", request.device, "--numerics", request.numerics, "--events-fd", str(events_fd)]
    for option, value in (("--seq-len", request.seq_len), ("--batch-seqs", request.batch_seqs),
                          ("--stride", request.stride)):
        if value is not None:
            command += [option, str(value)]
    if request.stride is not None:
        command.append("--explicit-stride")
    if request.standard:
        command.append("--standard")
    vocab = _env_int(request.env, "VOCAB_SIZE")
    if vocab:
        command += ["--vocab-size", str(vocab)]
    return command


def _drain(stream, tail: deque) -> None:
    for raw in iter(stream.readline, b""):
        tail.append(raw.decode("utf-8", "replace").rstrip("\n"))
    stream.close()


def run_eval_worker(request: EvalRequest, *, progress: bool | None = None) -> tuple[dict, list[dict]]:
    """Run the worker, show its progress, and return what it loaded and its results (one per mode and numerics)."""
    from golf.progress import progress_bar

    read_fd, write_fd = os.pipe()
    env = dict(request.env)
    golf_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (golf_root, env.get("PYTHONPATH")) if p)
    try:
        memory = WORKER_MEMORY_BYTES if request.device == "cpu" else None
        process = subprocess.Popen(worker_command(request, write_fd), cwd=request.record_dir, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   pass_fds=(write_fd,), preexec_fn=limit_worker(memory))
    except OSError as error:
        os.close(read_fd)
        raise GolfError(f"cannot start the evaluation worker: {error}") from None
    finally:
        os.close(write_fd)
    tail: deque = deque(maxlen=STDERR_TAIL_LINES)
    out_tail: deque = deque(maxlen=STDERR_TAIL_LINES)
    drains = [threading.Thread(target=_drain, args=(process.stderr, tail), daemon=True),
              threading.Thread(target=_drain, args=(process.stdout, out_tail), daemon=True)]
    for thread in drains:
        thread.start()
    expired = threading.Event()
    watchdog = threading.Timer(WORKER_TIMEOUT_S, lambda: (expired.set(), process.kill()))
    watchdog.daemon = True
    watchdog.start()
    results, error, loaded = [], None, {}
    try:
        with os.fdopen(read_fd, "r", encoding="utf-8") as events:
            bar_context, bar, done = None, None, 0
            for line in events:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                kind = event.get("event")
                if kind == "phase":
                    if bar_context is not None:
                        bar_context.__exit__(None, None, None)
                    label = event["mode"] + (f" stride {event['stride']}" if event.get("stride") else "")
                    label += f" ({event['numerics']})" if event.get("numerics") else ""
                    bar_context = progress_bar(f"eval {label}", total=event["total"], enabled=progress)
                    bar, done = bar_context.__enter__(), 0
                elif kind == "progress" and bar is not None:
                    bar.advance(event["done"] - done)
                    done = event["done"]
                elif kind == "loaded":
                    loaded = event.get("info", {})
                elif kind == "result":
                    results.append(event["result"])
                elif kind == "error":
                    error = event.get("message")
            if bar_context is not None:
                bar_context.__exit__(None, None, None)
        returncode = process.wait()
    except KeyboardInterrupt:
        process.kill()
        process.wait()
        raise
    finally:
        watchdog.cancel()
    for thread in drains:
        thread.join(timeout=5)
    if returncode != 0 or error or not results:
        lines = [line for line in tail if line.strip()] or [line for line in out_tail if line.strip()]
        detail = "\n  ".join(lines[-STDERR_TAIL_LINES:]) or "(no output)"
        headline = error.strip().splitlines()[0] if error and error.strip() else "no result"
        if expired.is_set():
            headline = f"killed after golf's time limit of {WORKER_TIMEOUT_S} s"
        elif error and "Traceback" not in "\n".join(tail):  # golf's own one-line explanation
            raise GolfError(f"evaluating {request.artifact.name} through {request.script} failed: {headline}")
        raise GolfError(f"evaluating {request.artifact.name} through {request.script} failed "
                        f"(worker exit status {returncode}): {headline}\n  its last lines:\n  {detail}")
    return loaded, results


def eval_payload(request: EvalRequest, loaded: dict, results: list[dict], report) -> dict:
    return {"record_dir": str(request.record_dir), "script": str(request.script),
            "artifact": str(request.artifact), "data_path": str(request.data_path),
            "tokenizer_path": str(request.tokenizer_path), "seq_len": loaded.get("seq_len"),
            "batch_seqs": loaded.get("batch_seqs"), "env": request.knobs, "env_sources": request.knob_sources,
            "loaded": loaded, "results": results, "comparison": report.to_dict()}


