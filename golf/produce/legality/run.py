"""`golf legality`: run a record's script twice at a tiny shape and see whether the tail reaches earlier scores.

The parent never imports the record's code. It builds two copies of the record folder and two data
folders that differ only in the validation stream after position P, runs the worker
(golf.produce.legality.worker) in each with the environment allowlist of reruns, golf eval's
memory bound and a time limit, and compares the loss calls the workers recorded.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError

VERDICTS = ("pass", "leak", "cannot-run")
PATH_SUFFIXES = ("_PATH", "_DIR", "_FILE", "_FILES", "_PATTERN")
STDERR_TAIL_LINES = 8


@dataclass
class RunOutcome:
    name: str
    seconds: float
    returncode: int | None
    timed_out: bool
    status: dict
    tail: list[str]


@dataclass
class LegalityResult:
    record_dir: str
    script: str
    verdict: str
    reason: str
    reason_kind: str | None = None     # cannot-run: missing-dependency, refused, shape, crashed, timed-out, no-losses
    first_leak: dict | None = None
    tail_from: int = 0
    stream_tokens: int = 0
    tolerance: float = 0.0
    calls: int = 0
    compared_elements: int = 0
    differing_calls: list[dict] = field(default_factory=list)
    knobs: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"schema_version": 1, "record_dir": self.record_dir, "script": self.script, "verdict": self.verdict,
                "reason": self.reason, "reason_kind": self.reason_kind, "first_leak": self.first_leak,
                "tail_from": self.tail_from, "stream_tokens": self.stream_tokens, "tolerance": self.tolerance,
                "calls": self.calls, "compared_elements": self.compared_elements,
                "differing_calls": self.differing_calls, "env": self.knobs, "notes": self.notes,
                "runs": self.runs, "seconds": round(self.seconds, 3)}


# ---------------------------------------------------------------------------------------------
# Inputs


def _vocabulary(tokenizer: Path) -> tuple[int, set[int]]:
    """The tokenizer's vocabulary size and its control, unknown and unused ids (kept in place in the tail)."""
    import sentencepiece as spm

    try:
        sp = spm.SentencePieceProcessor(model_file=str(tokenizer))
    except (OSError, RuntimeError) as error:
        raise GolfError(f"{tokenizer}: not a SentencePiece model ({error})") from None
    n = sp.get_piece_size()
    return n, {i for i in range(n) if sp.is_control(i) or sp.is_unknown(i) or sp.is_unused(i)}


def _record_env(record_dir: Path, env_names: list[str]) -> tuple[dict[str, str], list[str]]:
    """The knobs the record ran with, as golf eval reads them: its log's printed configuration (names the script
    reads), then its own command (submission.json run block or README torchrun line)."""
    from golf.produce.eval.compare import log_knobs
    from golf.produce.rerun import launch_spec
    from golf.produce.safe_env import split_record_env
    from golf.read.records import load_record

    try:
        record = load_record(record_dir)
    except GolfError:
        return {}, []
    knobs, notes = {}, []
    log = next((log for log in record.logs if getattr(log, "run", None) is not None), None)
    if log is not None:
        # Paths in a log are the original machine's (a checkpoint, a data folder): never passed on.
        printed = {k: v for k, v in log_knobs(log.run, env_names).items() if not k.endswith(PATH_SUFFIXES)}
        logged, _ = split_record_env(printed)
        knobs.update(logged)
        if logged:
            notes.append(f"{log.path} shows {', '.join(sorted(logged))}")
    try:
        spec = launch_spec(record)
    except GolfError:
        spec = None
    if spec is not None:
        kept, refused = split_record_env(spec.env)
        knobs.update(kept)
        notes += [f"the record's command sets {', '.join(sorted(kept))} ({spec.source})"] if kept else []
        notes += [f"not passed on: {problem}" for problem in refused]
    return knobs, notes


def _data(tmp: Path, data_path, tokenizer_path) -> tuple[Path, Path]:
    if data_path or tokenizer_path:
        if not (data_path and tokenizer_path):
            raise GolfError("--data-path and --tokenizer-path go together")
        data, tokenizer = Path(data_path).resolve(), Path(tokenizer_path).resolve()
        if not any(data.glob("fineweb_train_*.bin")) or not any(data.glob("fineweb_val_*.bin")):
            raise GolfError(f"{data}: needs fineweb_train_*.bin and fineweb_val_*.bin shards")
        if not tokenizer.is_file():
            raise GolfError(f"{tokenizer}: no such tokenizer model")
        return data, tokenizer
    from golf.data.smoke import ensure_smoke

    return ensure_smoke(tmp / "smoke")


def _stream_folder(root: Path, source: Path, tokenizer: Path, stream, vocab: int) -> Path:
    """root/ in the challenge's layout (DATA_DIR: datasets/fineweb10B_sp<V>/ with the training shards and this
    run's validation stream, tokenizers/fineweb_<V>_bpe.model), for scripts that build paths from DATA_DIR."""
    from golf.data.shards import write_shard

    folder = root / "datasets" / f"fineweb10B_sp{vocab}"
    folder.mkdir(parents=True)
    (root / "tokenizers").mkdir()
    os.symlink(tokenizer, root / "tokenizers" / f"fineweb_{vocab}_bpe.model")
    for shard in sorted(source.glob("fineweb_train_*.bin")):
        os.symlink(shard, folder / shard.name)
    write_shard(folder / "fineweb_val_000000.bin", stream, backup=False)
    return folder


def _copy_record(record_dir: Path, target: Path) -> None:
    from golf.produce.rerun.workdir import copied_files

    for rel, source in copied_files(record_dir):
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)


# ---------------------------------------------------------------------------------------------
# One run


def _run_worker(name: str, run_dir: Path, script: str, env: dict, timeout_s: float) -> RunOutcome:
    import json

    from golf.produce.safe_env import WORKER_MEMORY_BYTES, limit_worker

    out = run_dir.parent / f"{name}_out"
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "golf.produce.legality.worker", "--script", str(run_dir / script),
               "--out", str(out)]
    started = time.monotonic()
    tail: deque = deque(maxlen=STDERR_TAIL_LINES)
    with open(run_dir.parent / f"{name}.log", "wb") as log:
        process = subprocess.Popen(command, cwd=run_dir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=limit_worker(WORKER_MEMORY_BYTES))
        timed_out = False
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        except KeyboardInterrupt:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        if timed_out or process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = (run_dir.parent / f"{name}.log").read_text(errors="replace")
    tail.extend(line for line in text.splitlines() if line.strip())
    status = {}
    try:
        status = json.loads((out / "status.json").read_text())
    except (OSError, ValueError):
        pass
    return RunOutcome(name, time.monotonic() - started, process.returncode, timed_out, status, list(tail))


def _why_not(outcome: RunOutcome, timeout_s: float) -> tuple[str, str]:
    """(kind, one line) for a run that did not finish."""
    status = outcome.status
    if outcome.timed_out:
        return "timed-out", f"the {outcome.name} run passed the time limit of {timeout_s:g} s (see --timeout)"
    if not status:
        last = outcome.tail[-1] if outcome.tail else "no output"
        return "crashed", f"the {outcome.name} run ended (exit status {outcome.returncode}) before reporting: {last}"
    error = f"{status.get('error_type')}: {status.get('error')}".splitlines()[0][:300]
    where = f" at {status['error_where']}" if status.get("error_where") else ""
    if status.get("missing_module") and status.get("missing_name"):
        return "missing-dependency", f"missing dependency: the script imports {status['missing_name']!r} from " \
                                     f"{status['missing_module']!r}, which neither an installed package nor " \
                                     f"golf's CPU stand-in provides"
    if status.get("missing_module"):
        return "missing-dependency", f"missing dependency: the script imports {status['missing_module']!r}, " \
                                     f"which is not installed here and has no CPU stand-in"
    if status.get("stage") == "check":
        return "refused", error.split(": ", 1)[-1]
    if status.get("stage") == "import":
        return "crashed", f"importing the script failed{where}: {error}"
    if not status.get("calls_before_error"):
        return "shape", f"the script refused the tiny shape or a CPU run before its first loss{where}: {error}"
    return "crashed", f"the script crashed after {status['calls_before_error']} loss computations{where}: {error}"


# ---------------------------------------------------------------------------------------------
# The test


def check_legality(record_dir, *, script: str = "train_gpt.py", tail_from: int | None = None,
                   timeout_s: float, tolerance: float, data_path=None, tokenizer_path=None,
                   env: dict | None = None, keep: Path | None = None) -> LegalityResult:
    from golf.data.shards import read_shard
    from golf.produce.eval.script_check import describe_script
    from golf.produce.legality import shape
    from golf.produce.legality.compare import compare_runs, load_calls, phase_of
    from golf.produce.rerun import clean_environment
    from golf.read.runenv import script_defaults

    started = time.monotonic()
    record_dir = Path(record_dir)
    if not record_dir.is_dir():
        raise GolfError(f"{record_dir}: no such record folder")
    record_dir = record_dir.resolve()
    if not (record_dir / script).is_file():
        raise GolfError(f"{record_dir}: no {script} to run")
    result = LegalityResult(str(record_dir), script, "cannot-run", "", tolerance=tolerance)
    try:
        info = describe_script(record_dir / script)
    except GolfError as error:
        result.reason_kind, result.reason = "refused", str(error)
        result.seconds = time.monotonic() - started
        return result

    tmp = Path(tempfile.mkdtemp(prefix="golf-legality-")) if keep is None else Path(keep)
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        data, tokenizer = _data(tmp, data_path, tokenizer_path)
        vocab, kept = _vocabulary(tokenizer)
        stream = read_shard(sorted(data.glob("fineweb_val_*.bin"))[0])[:shape.STREAM_TOKENS]
        if stream.size < shape.STREAM_TOKENS:
            raise GolfError(f"{data}: the validation shard holds fewer than {shape.STREAM_TOKENS} tokens")
        p = shape.tail_from(stream.size) if tail_from is None else tail_from
        if not 0 < p < stream.size - 1:
            raise GolfError(f"--tail-from {p}: must lie inside the validation stream of {stream.size} tokens")
        changed = shape.changed_tail(stream, p, vocab, kept)
        record_knobs, notes = _record_env(record_dir, info.env_names)
        knobs = shape.tiny_knobs(info.env_names, {**script_defaults(info.source), **record_knobs}, int(stream.size))
        merged = {**record_knobs, **knobs, **(env or {})}
        merged.update(TOKENIZER_PATH=str(tokenizer))
        if "VOCAB_SIZE" in info.env_names:
            merged["VOCAB_SIZE"] = str(vocab)
        result.knobs, result.notes, result.tail_from, result.stream_tokens = merged, notes, p, int(stream.size)
        outcomes = []
        for name, tokens in (("unchanged", stream), ("changed", changed)):
            # Both runs use the same paths: scripts seed their data order from file names.
            run_dir, data_root = tmp / "run", tmp / "data"
            for path in (run_dir, data_root):
                shutil.rmtree(path, ignore_errors=True)
            _copy_record(record_dir, run_dir)
            folder = _stream_folder(data_root, data, tokenizer, tokens, vocab)
            run_env = clean_environment()
            run_env.update(merged, DATA_PATH=str(folder), DATA_DIR=f"{data_root}/", OMP_NUM_THREADS="1",
                           PYTHONHASHSEED="0", PYTHONPATH=str(Path(__file__).resolve().parents[2]))
            outcome = _run_worker(name, run_dir, script, run_env, timeout_s)
            outcomes.append(outcome)
            result.runs.append({"name": name, "seconds": round(outcome.seconds, 3), "exit_status": outcome.returncode,
                                "timed_out": outcome.timed_out, "calls": outcome.status.get("calls"),
                                "stage": outcome.status.get("stage"), "last_lines": outcome.tail})
            if outcome.status.get("stage") != "done":
                result.reason_kind, result.reason = _why_not(outcome, timeout_s)
                result.notes += outcome.status.get("notes", [])
                return result
        result.notes += outcomes[0].status.get("notes", [])
        a, b = (load_calls(tmp / f"{name}_out") for name in ("unchanged", "changed"))
        if not a:
            result.reason_kind = "no-losses"
            result.reason = ("the script ran to the end without computing a loss golf recognises "
                             "(F.cross_entropy, F.nll_loss, log_softmax + gather)")
            return result
        comparison = compare_runs(a, b, tolerance=tolerance, special_ids=kept)
        result.calls, result.compared_elements = comparison.calls, comparison.compared_elements
        for d in comparison.differences[:20]:
            result.differing_calls.append(_call_entry(d.call, phase_of(d.call.chain, comparison.train_chain,
                                                                        comparison.score_chain),
                                                      index=d.index + 1, elements=d.elements, compared=d.compared,
                                                      scores=d.scores, largest=d.largest))
        _verdict(result, comparison, a, phase_of)
        return result
    finally:
        result.seconds = time.monotonic() - started
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


def _via(call) -> str:
    return " > ".join(f"{function}:{line}" for function, line in call.chain)


def _call_entry(call, phase: str, **extra) -> dict:
    via = _via(call)
    return {"file": call.file, "line": call.line, "function": call.function, "phase": phase, "grad": call.grad,
            "scored": call.counts,  # the call holds scores
            "via": via, **extra}


def _verdict(result: LegalityResult, comparison, calls, phase_of) -> None:
    if not comparison.leak:
        result.verdict = "pass"
        trained = [d for d in comparison.differences if not d.counts]
        result.reason = (f"no score of a target before position {result.tail_from} moved in the "
                         f"{comparison.calls} loss computations compared ({comparison.compared_elements:,} elements)")
        if trained:
            result.reason += (f"; only losses that are not scores moved (first at {trained[0].call.where()}): "
                              f"training on tokens already scored, or unscored context, as score-first TTT does")
        again = next((d for d in trained if d.changed == 0), None)
        if again is not None:
            result.notes.append(
                f"a loss computed under grad on targets all before position {result.tail_from} moved at "
                f"{again.call.where()} (via {_via(again.call)}); golf saw none of its values reach a score, as in "
                f"a further epoch of training on tokens already scored; if that loss does reach the reported "
                f"score by a path golf does not follow (a Python float), it is a leak: review that line")
        return
    result.verdict = "leak"
    if comparison.differences:
        first = comparison.differences[0]
        if comparison.diverged_at is None or first.index < comparison.diverged_at:
            phase = phase_of(first.call.chain, comparison.train_chain, comparison.score_chain)
            result.first_leak = _call_entry(first.call, phase, index=first.index + 1)
            scored = next((d for d in comparison.differences if d.counts), None)
            result.reason = (f"tokens after position {result.tail_from} changed the loss of {first.elements} "
                             f"earlier target(s) at {first.call.where()} ({phase})")
            if scored is not None and scored is not first:
                result.reason += f"; the evaluation at {scored.call.where()} ({_via(scored.call)}) then scored them"
            return
    call = calls[comparison.diverged_at] if comparison.diverged_at < len(calls) else calls[-1]
    phase = phase_of(call.chain, comparison.train_chain, comparison.score_chain)
    result.first_leak = _call_entry(call, phase, index=comparison.diverged_at + 1)
    result.reason = f"the two runs stopped computing the same losses: {comparison.divergence}"
