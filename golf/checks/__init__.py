"""Checks: one small registered rule per kind of finding, in the manner of ruff and flake8.

A rule has a stable code (G101...), a name used in JSON and on the command line, a
severity and a one-line rationale. Its check function takes the prepared facts of a
record (golf.checks.context.RecordContext) and yields `Hit`s; the registry turns those
into `golf.report.Finding`s. Checks never print, never raise on bad input, and never
run anything from the record folder.

Code ranges: G1xx folder contents, G2xx scores and claims, G3xx sizes, G4xx source,
G5xx runs and seeds, G6xx time budgets, G7xx significance, G8xx reruns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from golf.errors import GolfError
from golf.report import SEVERITIES, Finding


@dataclass(frozen=True)
class Hit:
    """What a check reports; the rule it came from supplies code, name and severity."""

    message: str
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    rationale: str
    check: Callable[..., Iterable[Hit]]
    # "static" rules run on every record; "rerun" rules only when rerun results are given.
    phase: str = "static"

    def run(self, ctx) -> Iterator[Finding]:
        for hit in self.check(ctx) or ():
            yield Finding(self.code, self.name, self.severity, hit.message, hit.file, hit.line)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "severity": self.severity,
                "rationale": self.rationale, "phase": self.phase}


REGISTRY: dict[str, Rule] = {}


def rule(code: str, name: str, severity: str, rationale: str, *, phase: str = "static"):
    """Register the decorated function as the check of a rule."""
    if severity not in SEVERITIES:
        raise ValueError(f"rule {code}: unknown severity {severity!r}")

    def register(fn: Callable[..., Iterable[Hit]]) -> Callable[..., Iterable[Hit]]:
        if code in REGISTRY or any(r.name == name for r in REGISTRY.values()):
            raise ValueError(f"rule {code} {name} registered twice")
        REGISTRY[code] = Rule(code, name, severity, rationale, fn, phase)
        return fn

    return register


def _load_families() -> None:
    # Importing the family modules registers their rules.
    from golf.checks import files, reruns, runs, scores, significance, sizes, source, timing  # noqa: F401


def all_rules() -> list[Rule]:
    _load_families()
    return sorted(REGISTRY.values(), key=lambda r: r.code)


def resolve(selectors: Iterable[str] | None) -> set[str]:
    """Rule codes named by `selectors`: codes, names, or code prefixes such as `G3`. Unknown ones are an error."""
    rules = all_rules()
    chosen: set[str] = set()
    for raw in selectors or ():
        for item in str(raw).split(","):
            item = item.strip()
            if not item:
                continue
            hits = [r.code for r in rules
                    if r.name == item or r.code.upper() == item.upper() or r.code.upper().startswith(item.upper())]
            if not hits:
                raise GolfError(f"unknown rule {item!r}: run `golf rules` for the codes and names")
            chosen.update(hits)
    return chosen


def select_rules(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> list[Rule]:
    """Rules to run: all of them (or those selected), minus those ignored."""
    rules = all_rules()
    selected = resolve(select) if select else {r.code for r in rules}
    ignored = resolve(ignore) if ignore else set()
    return [r for r in rules if r.code in selected and r.code not in ignored]


def run_rules(ctx, rules: list[Rule]) -> list[Finding]:
    """Run each rule on one record. A check that crashes becomes a finding, never a traceback."""
    findings: list[Finding] = []
    for r in rules:
        if r.phase == "rerun" and not ctx.reruns:
            continue
        try:
            findings.extend(r.run(ctx))
        except Exception as error:  # a bug in one check must not hide the other findings
            findings.append(Finding("G000", "internal-error", "error",
                                    f"check {r.code} {r.name} crashed: {type(error).__name__}: {error}"))
    return findings


__all__ = ["Hit", "Rule", "REGISTRY", "rule", "all_rules", "resolve", "select_rules", "run_rules"]
