"""golf's scores beside the record's own printed lines (no torch; the record's logs are only read).

- `pick_log` chooses the log whose run wrote the artifact being scored (its logged model bytes equal the
  artifact's size), else the record's only log;
- `log_knobs` turns the log's hyperparameter lines into environment knobs for the script (only names
  the script itself reads);
- `compare` puts each printed exact line beside golf's score in the record's numerics, names the
  difference when it is a known convention (bfloat16 numerics, tail scored twice, head skipped), and
  makes a finding when it is larger than the ruleset's tolerance and not explained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from golf.produce.eval.evaluate import CONVENTIONS

# Environment names a log's configuration must never set for the evaluation.
NOT_FROM_LOG = {"DATA_PATH", "TOKENIZER_PATH", "RUN_ID", "SEED", "LOGFILE", "WORLD_SIZE", "RANK", "LOCAL_RANK",
                "MAX_WALLCLOCK_SECONDS", "ITERATIONS"}


@dataclass
class Comparison:
    mode: str                  # "standard" or "sliding"
    label: str                 # the printed line's label
    log: str
    line: int
    printed_bpb: float
    golf_bpb: float | None     # golf in the record's numerics (the script's interface, when it has one)
    float32_bpb: float | None
    difference: float | None   # printed - golf
    explanation: str           # "matches", a named convention, or "unexplained"
    finding: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class EvalReport:
    comparisons: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tolerance_bpb: float = 0.0

    @property
    def findings(self) -> list[str]:
        return [c.finding for c in self.comparisons if c.finding]

    def to_dict(self) -> dict:
        return {"tolerance_bpb": self.tolerance_bpb, "comparisons": [c.to_dict() for c in self.comparisons],
                "notes": self.notes, "findings": self.findings}


def pick_log(record, artifact_size: int | None, wanted: str | None = None):
    """The RecordLog to compare with: --log, else the one whose logged model bytes are the artifact's size,
    else the record's only log (or only run: a stdout capture beside the script's log); None when none can be
    told apart."""
    logs = [log for log in record.unique_logs if log.run is not None]
    if wanted:
        for log in record.logs:
            if log.path == wanted or Path(log.path).name == wanted:
                return log
        return None
    if artifact_size is not None:
        sized = [log for log in logs if log.run.model_bytes == artifact_size]
        if len(sized) == 1 or _one_run(sized):
            return sized[0]
    return logs[0] if len(logs) == 1 or _one_run(logs) else None


def _one_run(logs) -> bool:
    """Several logs that printed the same numbers are one run (the script's log and a capture of its stdout)."""
    from golf.judge.copies import run_fingerprint

    prints = {run_fingerprint(log.run) for log in logs}
    return len(logs) > 1 and len(prints) == 1 and None not in prints


def log_knobs(run, env_names: list[str]) -> dict[str, str]:
    """KEY=value for every environment name the script reads whose lower-case key the log's configuration has."""
    if run is None:
        return {}
    knobs = {}
    for name in env_names:
        if name in NOT_FROM_LOG:
            continue
        value = run.config.get(name.lower())
        if value is None:
            continue
        knobs[name] = {"True": "1", "False": "0"}.get(value, value)
    return knobs


def _printed(run) -> dict[str, object]:
    """The last finite exact-or-best line per kind: standard roundtrip, sliding window, test-time training."""
    found: dict[str, object] = {}
    for score in run.scores if run is not None else []:
        label = score.label.lower()
        if not score.finite or label.startswith(("diagnostic", "pre-quantization")) or "post_ema" in label \
                or "post-ema" in label or label.startswith("ttt_sliding:"):
            continue
        kind = "ttt" if "ttt" in label else "sliding" if "sliding" in label else \
            "standard" if "roundtrip" in label else None
        if kind is None:
            continue
        best = found.get(kind)
        if best is None or score.exact or not best.exact:
            found[kind] = score
    return found


def _golf(results: list[dict], mode: str, numerics: str) -> dict | None:
    return next((r for r in results if r["mode"] == mode and r.get("numerics") == numerics), None)


def compare(results: list[dict], log, tolerance_bpb: float) -> EvalReport:
    report = EvalReport(tolerance_bpb=tolerance_bpb)
    if log is None:
        report.notes.append("no log of the record was compared (none, or several and none matches the "
                            "artifact's size: pass --log)")
        return report
    printed = _printed(log.run)
    ttt = printed.get("ttt")
    if ttt is not None:
        report.notes.append(f"{ttt.label} val_bpb:{ttt.val_bpb:.8f} (line {ttt.line}) is a test-time-training "
                            f"score: it changes the weights while scoring, so golf does not re-score it; golf's "
                            f"scores are those of the quantized model before adaptation")
    for mode in ("standard", "sliding"):
        line = printed.get(mode)
        if line is None:
            continue
        reference = _golf(results, mode, "record") or _golf(results, mode, "interface")
        float32 = _golf(results, mode, "float32")
        if reference is None:
            report.notes.append(f"{line.label} (line {line.line}) was not re-scored: golf ran no {mode} pass "
                                f"(pass --standard or --stride)")
            continue
        if mode == "sliding" and line.stride and line.stride != reference["stride"]:
            report.notes.append(f"{line.label} used stride {line.stride}, golf {reference['stride']}: not compared")
            continue
        report.comparisons.append(_compare_one(mode, line, log.path, reference, float32, tolerance_bpb))
    return report


def _compare_one(mode, line, log_path, reference, float32, tolerance) -> Comparison:
    printed = line.val_bpb
    # A line printed with 4 decimals cannot agree closer than its rounding.
    allowed = max(tolerance, 0.5 * 10.0 ** -line.decimals) if line.decimals else tolerance
    golf_bpb = reference["val_bpb"]
    f32 = float32["val_bpb"] if float32 else None
    difference = printed - golf_bpb
    comparison = Comparison(mode, line.label, log_path, line.line, printed, golf_bpb, f32, difference, "matches")
    if abs(difference) <= allowed:
        if f32 is not None and abs(printed - f32) > allowed:
            comparison.explanation = (f"matches in the record's numerics; bfloat16 numerics: float32 differs by "
                                      f"{printed - f32:+.2e} bpb")
        return comparison
    for name, scores in reference.get("conventions", {}).items():
        if abs(printed - scores["val_bpb"]) <= allowed:
            comparison.explanation = f"{name}: {CONVENTIONS.get(name, name)} (golf scores every target once)"
            return comparison
    comparison.explanation = "unexplained"
    comparison.finding = (f"{log_path}:{line.line}: {line.label} val_bpb {printed:.8f} differs from golf's "
                          f"{golf_bpb:.8f} by {difference:+.2e}, beyond the tolerance {allowed:.0e} and not a "
                          f"known window convention")
    return comparison
