"""Findings and the rules that produce them, in the manner of ruff and flake8.

A rule has a stable code (G101...), a name used in JSON and on the command line, a
severity, a one-line rationale and a longer explanation (`golf rules CODE`). Its check
takes the prepared facts of a record (golf.judge.facts.RecordContext) and yields `Hit`s;
the rule turns them into `Finding`s. Every finding golf emits, including its own
internal errors and the change-set problems of `golf ci`, comes from a registered rule.

Each rule belongs to one `group`; groups are how other parts of golf ask about kinds of
rule without knowing codes:
- "claim": judges submission.json's own statements (golf submit rewrites that file, so
  these do not stop it);
- "significance": the test against SOTA (left out when a record is judged as a SOTA
  candidate for another);
- "record": everything else.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from golf.errors import GolfError

SEVERITIES = ("error", "warning", "info")
GROUPS = ("record", "claim", "significance", "ci")


@dataclass
class Finding:
    """One thing a check found: which rule, how serious, what to do about it, and where."""

    code: str
    name: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    group: str = "record"
    paperwork: str | None = None   # the kind of paperwork this is, if any (see PAPERWORK); the ruleset decides
    template: str | None = None    # the message with {placeholders}, when the check gave its arguments apart
    args: dict[str, Any] | None = None   # the numbers and names the message was made from (pyflakes' message_args)

    def to_dict(self) -> dict[str, Any]:
        out = {"code": self.code, "name": self.name, "severity": self.severity,
               "message": self.message, "file": self.file, "line": self.line}
        if self.paperwork:
            out["paperwork"] = self.paperwork
        if self.template is not None:
            out["template"] = self.template
            out["args"] = dict(self.args or {})
        return out


# Kinds of paperwork a check can tell apart from a finding about validity, and the fix of each. Whether a
# kind fails a record is the ruleset's decision ([verdict] paperwork): the written rules keep them errors.
PAPERWORK = {
    "claim-precision": "run `golf submit RECORD_DIR`: it rewrites the claims from the logs",
    "readme-name": "rename the README to README.md",
    "seed-label": "correct the seed the file name or submission.json states (the runs' seeds are distinct)",
}


@dataclass(frozen=True)
class Hit:
    """What a check reports; the rule it came from supplies code, name and severity."""

    message: str
    file: str | None = None
    line: int | None = None
    paperwork: str | None = None   # a kind of PAPERWORK: what is off is the paperwork, not the record
    template: str | None = None
    args: Any = None               # a dict: the arguments of `template`


def hit(template: str, *, file: str | None = None, line: int | None = None, paperwork: str | None = None,
        **args) -> Hit:
    """A Hit whose message is `template` filled with `args`, both kept (pyflakes' message and message_args):
    the JSON report carries the numbers, not only the sentence. Format specs work: `{cap:,}`."""
    return Hit(template.format(**args), file, line, paperwork, template, dict(args))


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    rationale: str
    check: Callable[..., Iterable[Hit]]
    # "static" rules run on every record; "rerun" rules only when rerun results are given.
    phase: str = "static"
    group: str = "record"

    @property
    def explanation(self) -> str:
        """The long explanation: the check function's docstring, else the rationale."""
        doc = inspect.getdoc(self.check)
        return doc if doc else self.rationale

    def finding(self, hit: Hit) -> Finding:
        if hit.paperwork is not None and hit.paperwork not in PAPERWORK:
            raise ValueError(f"rule {self.code}: unknown kind of paperwork {hit.paperwork!r}")
        return Finding(self.code, self.name, self.severity, hit.message, hit.file, hit.line, self.group,
                       hit.paperwork, hit.template, hit.args)

    def run(self, ctx) -> Iterator[Finding]:
        for hit in self.check(ctx) or ():
            yield self.finding(hit)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "severity": self.severity,
                "rationale": self.rationale, "phase": self.phase, "group": self.group}


REGISTRY: dict[str, Rule] = {}


def rule(code: str, name: str, severity: str, rationale: str, *, phase: str = "static", group: str = "record"):
    """Register the decorated function as the check of a rule."""
    if severity not in SEVERITIES:
        raise ValueError(f"rule {code}: unknown severity {severity!r}")
    if group not in GROUPS:
        raise ValueError(f"rule {code}: unknown group {group!r}")

    def register(fn: Callable[..., Iterable[Hit]]) -> Callable[..., Iterable[Hit]]:
        if code in REGISTRY or any(r.name == name for r in REGISTRY.values()):
            raise ValueError(f"rule {code} {name} registered twice")
        REGISTRY[code] = Rule(code, name, severity, rationale, fn, phase, group)
        return fn

    return register


def _load_families() -> None:
    # Importing the family modules registers their rules.
    from golf.judge import checks  # noqa: F401


def all_rules() -> list[Rule]:
    _load_families()
    return sorted(REGISTRY.values(), key=lambda r: r.code)


def get_rule(code: str) -> Rule:
    _load_families()
    return REGISTRY[code]


def emit(code: str, message: str, file: str | None = None, line: int | None = None) -> Finding:
    """A finding of a registered rule raised outside its check (golf's own errors, ci's change-set problems)."""
    return get_rule(code).finding(Hit(message, file, line))


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


@dataclass
class Selection:
    """The rules a run uses, and what the user left out (the report keeps a trace of it)."""

    rules: list[Rule]
    ignored: list[str] = field(default_factory=list)      # codes removed by --ignore
    selected: list[str] | None = None                     # codes named by --select (None: all)

    def to_dict(self) -> dict[str, Any]:
        return {"selected": self.selected, "ignored": self.ignored}


def select_rules(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> Selection:
    """Rules to run: all of them (or those selected), minus those ignored."""
    rules = all_rules()
    selected = resolve(select) if select else None
    ignored = resolve(ignore) if ignore else set()
    chosen = [r for r in rules if (selected is None or r.code in selected) and r.code not in ignored]
    return Selection(chosen, sorted(ignored), sorted(selected) if selected is not None else None)


def run_rules(ctx, rules: list[Rule]) -> list[Finding]:
    """Run each rule on one record. A check that crashes becomes a finding, never a traceback."""
    findings: list[Finding] = []
    for r in rules:
        if r.phase == "rerun" and not ctx.reruns:
            continue
        try:
            findings.extend(r.run(ctx))
        except Exception as error:  # a bug in one check must not hide the other findings
            findings.append(emit("G000", f"check {r.code} {r.name} crashed: {type(error).__name__}: {error}"))
    return findings


def blocking(findings: Iterable[Finding], *, allow: Iterable[str] = ()) -> list[Finding]:
    """The error findings, except those of the groups in `allow`."""
    allowed = set(allow)
    return [f for f in findings if f.severity == "error" and f.group not in allowed]


__all__ = ["Finding", "GROUPS", "Hit", "REGISTRY", "Rule", "SEVERITIES", "Selection", "all_rules", "blocking",
           "emit", "get_rule", "resolve", "rule", "run_rules", "select_rules"]
