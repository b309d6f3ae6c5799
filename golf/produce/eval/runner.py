"""The parent side of `golf eval`: check the record statically, then score it in a worker process.

The record's script is first read with `ast` (never executed here) to see that it offers the
evaluator interface. The worker (golf.produce.eval.worker) runs with the record folder as its working
directory and the record's environment knobs, imports the script, and reports progress and
results as JSON lines on a pipe of its own, so the record's prints never mix with them.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from golf.io import dumps_json, load_json_file
from golf.produce.safe_env import WORKER_MEMORY_BYTES, WORKER_TIMEOUT_S, limit_worker, record_knobs, user_knob
from golf.errors import GolfError

INTERFACE_FUNCTION = "load_model_for_eval"
INTERFACE_METHOD = "forward_logits"
ARTIFACT_NAME = "final_model.int8.ptz"
DEFAULT_SEQ_LEN = 1024
DEFAULT_BATCH_SEQS = 32
STDERR_TAIL_LINES = 12


@dataclass
class EvalRequest:
    record_dir: Path
    script: Path
    artifact: Path
    data_path: Path
    tokenizer_path: Path
    seq_len: int
    batch_seqs: int
    stride: int | None
    device: str
    env: dict[str, str] = field(default_factory=dict)   # the full environment of the worker
    knobs: dict[str, str] = field(default_factory=dict)  # what came from the record and --env

    @classmethod
    def from_args(cls, args) -> "EvalRequest":
        record_dir = Path(args.record_dir)
        if not record_dir.is_dir():
            raise GolfError(f"{record_dir}: no such record folder")
        record_dir = record_dir.resolve()
        script = record_dir / args.script
        if not script.is_file():
            raise GolfError(f"{record_dir}: no {args.script} to load the model with")
        check_interface(script)
        artifact = Path(args.artifact).resolve() if args.artifact else record_dir / ARTIFACT_NAME
        if not artifact.is_file():
            hint = "" if args.artifact else " (run the record's script first, or pass --artifact)"
            raise GolfError(f"{artifact}: no such artifact file{hint}")
        knobs = record_env(record_dir)
        for key, value in args.env:  # (KEY, VALUE) pairs checked by golf.cli.options.env_item
            user_knob(key, value)
        knobs.update(dict(args.env))
        env = dict(os.environ)
        env.update(knobs)
        data_path, tokenizer_path = resolve_data(args.data_path, args.tokenizer_path, env, record_dir)
        env["DATA_PATH"], env["TOKENIZER_PATH"] = str(data_path), str(tokenizer_path)
        seq_len = args.seq_len or _env_int(env, "EVAL_SEQ_LEN") or _env_int(env, "TRAIN_SEQ_LEN") or DEFAULT_SEQ_LEN
        batch_seqs = args.batch_seqs or _env_int(env, "EVAL_BATCH_SEQS") or DEFAULT_BATCH_SEQS
        stride = args.stride if args.stride is not None else _env_int(env, "EVAL_STRIDE")
        if seq_len <= 0 or batch_seqs <= 0:
            raise GolfError(f"--seq-len and --batch-seqs must be positive (got {seq_len}, {batch_seqs})")
        if stride is not None and stride <= 0:
            stride = None  # EVAL_STRIDE=0 means no sliding window, as in the reference script
        if stride is not None and stride > seq_len:
            raise GolfError(f"--stride {stride} must not exceed the sequence length {seq_len}")
        return cls(record_dir, script, artifact, data_path, tokenizer_path, seq_len, batch_seqs, stride,
                   args.device, env, knobs)


def _env_int(env: dict, key: str) -> int | None:
    value = env.get(key)
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise GolfError(f"environment knob {key}={value!r} is not an integer") from None


def check_interface(script: Path) -> None:
    """Refuse a script without the evaluator interface, reading it with ast only (never running it)."""
    try:
        tree = ast.parse(script.read_bytes(), filename=str(script))
    except SyntaxError as error:
        raise GolfError(f"{script}: cannot evaluate: the script does not parse "
                        f"(line {error.lineno}: {error.msg})") from None
    except (OSError, ValueError) as error:
        raise GolfError(f"{script}: cannot read the script ({error})") from None
    top_level = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            top_level.add(node.name)
        elif isinstance(node, ast.Assign):
            top_level.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):  # e.g. `from helpers import load_model_for_eval`
            top_level.update(alias.asname or alias.name for alias in node.names)
    methods = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    missing = []
    if INTERFACE_FUNCTION not in top_level:
        missing.append(f"a top-level {INTERFACE_FUNCTION}(artifact_path, device)")
    if INTERFACE_METHOD not in methods:
        missing.append(f"a model method {INTERFACE_METHOD}(input_ids)")
    if missing:
        raise GolfError(f"{script}: refusing to evaluate: the script does not follow golf's evaluator interface "
                        f"(it lacks {' and '.join(missing)}; see README, 'The evaluator interface'). "
                        f"Nothing was run.")


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
               "--seq-len", str(request.seq_len), "--batch-seqs", str(request.batch_seqs),
               "--device", request.device, "--events-fd", str(events_fd)]
    if request.stride:
        command += ["--stride", str(request.stride)]
    vocab = _env_int(request.env, "VOCAB_SIZE")
    if vocab:
        command += ["--vocab-size", str(vocab)]
    return command


def _drain(stream, tail: deque) -> None:
    for raw in iter(stream.readline, b""):
        tail.append(raw.decode("utf-8", "replace").rstrip("\n"))
    stream.close()


def run_eval_worker(request: EvalRequest, *, progress: bool | None = None) -> list[dict]:
    """Run the worker, show its progress, and return its results (one dict per mode)."""
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
    results, error = [], None
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
                    bar_context = progress_bar(f"eval {label}", total=event["total"], enabled=progress)
                    bar, done = bar_context.__enter__(), 0
                elif kind == "progress" and bar is not None:
                    bar.advance(event["done"] - done)
                    done = event["done"]
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
        raise GolfError(f"evaluating {request.artifact.name} through {request.script} failed "
                        f"(worker exit status {returncode}): {headline}\n  its last lines:\n  {detail}")
    return results


def print_results(request: EvalRequest, results: list[dict], *, as_json: bool) -> None:
    if as_json:
        payload = {"record_dir": str(request.record_dir), "script": str(request.script),
                   "artifact": str(request.artifact), "data_path": str(request.data_path),
                   "tokenizer_path": str(request.tokenizer_path), "seq_len": request.seq_len,
                   "batch_seqs": request.batch_seqs, "env": request.knobs, "results": results}
        print(dumps_json(payload, indent=2))
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"golf eval {request.record_dir.name}: {request.artifact.name}, seq_len {request.seq_len}",
                  box=box.SIMPLE_HEAD)
    for column in ("score", "val_loss", "val_bpb", "targets", "bytes", "eval time"):
        table.add_column(column, justify="left" if column == "score" else "right", no_wrap=True)
    for r in results:
        label = r["mode"] + (f", stride {r['stride']}" if r["stride"] else "")
        table.add_row(label, f"{r['val_loss']:.8f}", f"{r['val_bpb']:.8f}", f"{r['targets']:,}", f"{r['bytes']:,}",
                      f"{r['eval_time_ms']:.0f}ms")
    Console().print(table)
