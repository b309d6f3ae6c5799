"""How records are judged: the settings every command shares, resolved once (pip's ConfigOptionParser).

A `Judging` holds the ruleset policy (one fixed ruleset, or the ruleset in force on each record's
date), the rules selected and ignored, the waivers, the records tree, the reproductions pooled and
the SOTA given. `judging(...)` builds it from what the command line gave and the project
configuration (golf.read.config): the command line wins, key by key. verify, submit, ci,
leaderboard, logs and stats all judge through one, so a golf.toml means the same to each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError


@dataclass(frozen=True)
class Judging:
    ruleset: object = None                    # a fixed golf.rules.Ruleset; None: by each record's date
    ruleset_source: str | None = None         # where the fixed ruleset was named ("--ruleset", a config path)
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    waivers: dict = field(default_factory=dict)   # resolved record folder -> code -> reason
    records_root: Path | None = None
    pool_runs: tuple[Path, ...] = ()          # --pool-runs: reproductions of the one record verified
    reproductions: dict = field(default_factory=dict)   # record folder -> folders of its reproductions (config)
    sota: float | None = None
    sota_record: Path | None = None
    config: object = None                     # the golf.read.config.Config read, if any

    @property
    def by_date(self) -> bool:
        return self.ruleset is None

    @property
    def default_ruleset(self):
        """The fixed ruleset, else the default one (what labels, stats and tracks are read by without a record)."""
        return self.ruleset if self.ruleset is not None else ruleset_named(None)

    def ruleset_for(self, date: str | None):
        """The ruleset that judges a record of this date, and why."""
        if self.ruleset is not None:
            return self.ruleset, f"given with {self.ruleset_source or '--ruleset'}"
        from golf.rules import ruleset_for_date

        return ruleset_for_date(date)

    def waivers_for(self, record) -> dict[str, str]:
        return self.waivers.get(Path(record).resolve(), {})

    def reproductions_for(self, record) -> tuple:
        """(folder, who named it) of each folder of reproductions the configuration names for this record."""
        where = str(self.config.path) if self.config is not None and self.config.path else "the configuration"
        return tuple((folder, where) for folder in self.reproductions.get(Path(record).resolve(), ()))

    def verifier(self, *, curves: bool = False):
        from golf.judge.verify import Verifier

        return Verifier(judging=self, curves=curves)


def ruleset_named(value):
    """A Ruleset from a name, a TOML path, or a Ruleset already loaded: the one place golf turns a ruleset the
    user named into a Ruleset (None: the default ruleset)."""
    from golf.rules import Ruleset, load_ruleset

    if isinstance(value, Ruleset):
        return value
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise GolfError(f"not a ruleset: {value!r}")
    return load_ruleset(value)


def judging(*, ruleset=None, select=None, ignore=None, records_root=None, pool_runs=(), sota=None,
            sota_record=None, config=None) -> Judging:
    """The settings from the command line's values (None where not given) and the configuration's."""
    source = "--ruleset" if ruleset is not None else None
    if config is not None:
        if ruleset is None and config.ruleset is not None:
            ruleset, source = config.ruleset, str(config.path) if config.path else "the configuration"
        select = select if select is not None else config.select
        ignore = ignore if ignore is not None else config.ignore
        records_root = records_root if records_root is not None else config.records_root
    if sota is not None and sota_record is not None:
        raise GolfError("give either --sota or --sota-record, not both")
    pools = tuple(Path(p) for p in pool_runs or ())
    for folder in pools:
        if not folder.is_dir():
            raise GolfError(f"{folder}: --pool-runs is not a folder of logs")
    return Judging(ruleset=ruleset_named(ruleset) if ruleset is not None else None, ruleset_source=source,
                   select=_codes(select), ignore=_codes(ignore), waivers=_waivers(config),
                   records_root=Path(records_root) if records_root is not None else None, pool_runs=pools,
                   reproductions=dict(config.reproductions) if config is not None else {},
                   sota=sota, sota_record=Path(sota_record) if sota_record is not None else None, config=config)


def _codes(values) -> tuple[str, ...] | None:
    return tuple(values) if values is not None else None


def _waivers(config) -> dict:
    """The configuration's waivers with each rule named resolved to its codes (an unknown rule is an error)."""
    from golf.judge.findings import resolve

    if config is None:
        return {}
    where = str(config.path) if config.path else "the golf configuration"
    out: dict[Path, dict[str, str]] = {}
    for record, rules in config.waivers.items():
        entry: dict[str, str] = {}
        for name, reason in rules.items():
            try:
                codes = resolve([name])
            except GolfError as error:
                raise GolfError(f"{where} waivers.{record.name!r}: {error}") from None
            for code in codes:
                entry[code] = reason
        out[Path(record).resolve()] = entry
    return out


__all__ = ["Judging", "judging", "ruleset_named"]
