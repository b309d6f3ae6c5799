"""The verification report as data: what `golf verify` concluded about each record folder.

golf.judge.verify builds it; golf.render.report prints it. The JSON shape is documented
in schemas/report.schema.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from golf.judge.findings import Finding

REPORT_SCHEMA_VERSION = 3


@dataclass
class RunRow:
    """One run as the report shows it: the score taken from its log and its sizes and times."""

    log: str
    seed: int | None = None
    label: str | None = None
    val_bpb: float | None = None
    val_loss: float | None = None
    bytes_total: int | None = None
    bytes_code: int | None = None
    bytes_model: int | None = None
    size_basis: str | None = None
    train_time_ms: float | None = None
    eval_time_ms: float | None = None
    duplicate_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"log": self.log, "seed": self.seed, "label": self.label,
                "val_bpb": _num(self.val_bpb), "val_loss": _num(self.val_loss),
                "bytes_total": self.bytes_total, "bytes_code": self.bytes_code,
                "bytes_model": self.bytes_model, "size_basis": self.size_basis,
                "train_time_ms": _num(self.train_time_ms), "eval_time_ms": _num(self.eval_time_ms),
                "duplicate_of": self.duplicate_of}


@dataclass
class Reproduced:
    """One rerun seed beside what the record claimed for it (its shipped log): score, bytes, train time."""

    seed: int | None
    claimed_val_bpb: float | None = None
    val_bpb: float | None = None
    claimed_bytes_total: int | None = None
    bytes_total: int | None = None
    claimed_train_time_ms: float | None = None
    train_time_ms: float | None = None
    status: str = "ok"            # ok, failed, timed out

    @property
    def delta_bpb(self) -> float | None:
        if self.val_bpb is None or self.claimed_val_bpb is None:
            return None
        return self.val_bpb - self.claimed_val_bpb

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "status": self.status,
                "claimed": {"val_bpb": _num(self.claimed_val_bpb), "bytes_total": self.claimed_bytes_total,
                            "train_time_ms": _num(self.claimed_train_time_ms)},
                "reproduced": {"val_bpb": _num(self.val_bpb), "bytes_total": self.bytes_total,
                               "train_time_ms": _num(self.train_time_ms)},
                "delta_val_bpb": _num(self.delta_bpb)}


@dataclass
class RunCurves:
    """One run's curves from its log, for the report's pictures: (step, value) pairs."""

    log: str
    seed: int | None
    train_loss: list[tuple[int, float]] = field(default_factory=list)
    val_bpb: list[tuple[int, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"log": self.log, "seed": self.seed, "train_loss": [[s, _num(v)] for s, v in self.train_loss],
                "val_bpb": [[s, _num(v)] for s, v in self.val_bpb]}


@dataclass
class Summary:
    """Aggregates over the distinct scored runs (duplicates and unscored logs left out)."""

    n_runs: int = 0
    val_bpb_mean: float | None = None
    val_bpb_std: float | None = None
    val_loss_mean: float | None = None
    val_loss_std: float | None = None
    bytes_total_max: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"n_runs": self.n_runs, "val_bpb_mean": _num(self.val_bpb_mean),
                "val_bpb_std": _num(self.val_bpb_std), "val_loss_mean": _num(self.val_loss_mean),
                "val_loss_std": _num(self.val_loss_std), "bytes_total_max": self.bytes_total_max}


@dataclass
class RecordReport:
    """The verdict on one record folder: fail iff any finding has error severity."""

    path: str
    track: str | None = None
    date: str | None = None
    runs: list[RunRow] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    rerun: bool = False
    reproduction: list[Reproduced] = field(default_factory=list)   # one row per rerun seed (--rerun only)
    curves: list[RunCurves] = field(default_factory=list)          # per run, when the report draws pictures
    waived: list[dict[str, Any]] = field(default_factory=list)   # findings a waiver set aside, with its reason
    fixes: list[dict[str, Any]] = field(default_factory=list)    # paperwork to fix (ruleset [verdict]), with the fix

    @property
    def verdict(self) -> str:
        return "fail" if any(f.severity == "error" for f in self.findings) else "pass"

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "track": self.track, "date": self.date, "verdict": self.verdict, "rerun": self.rerun,
                "runs": [r.to_dict() for r in self.runs], "summary": self.summary.to_dict(),
                "findings": [f.to_dict() for f in self.findings], "waived": list(self.waived),
                "fixes": list(self.fixes),
                "stats": _clean(self.stats),
                "reproduction": [r.to_dict() for r in self.reproduction],
                "curves": [c.to_dict() for c in self.curves]}


@dataclass
class Report:
    golf_version: str
    ruleset: str
    records: list[RecordReport] = field(default_factory=list)
    selected: list[str] | None = None          # rule codes named by --select (None: every rule)
    ignored: list[dict[str, str]] = field(default_factory=list)   # {"code", "name"} of each rule --ignore removed
    waivers: list[dict[str, str]] = field(default_factory=list)   # {"record", "code", "reason"} of each waiver given
    config: str | None = None                                     # the configuration file used, if any

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.records)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": REPORT_SCHEMA_VERSION, "golf_version": self.golf_version,
                "ruleset": self.ruleset, "config": self.config,
                "rules": {"selected": self.selected, "ignored": self.ignored, "waivers": self.waivers},
                "records": [r.to_dict() for r in self.records]}


def _num(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such values are reported as null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _clean(value: Any) -> Any:
    """Make a stats structure JSON-safe: non-finite floats become null, tuples become lists."""
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value
