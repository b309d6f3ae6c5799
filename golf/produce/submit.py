"""`golf submit`: build a record folder's submission.json from its own logs.

Numbers come only from the logs (scores, sizes, times) and the shipped script
(code bytes); identity fields and the `run` block a person wrote are kept. The
result is validated against schemas/submission.schema.json and written atomically,
keeping the previous file as .bak. Nothing is written when something is missing
or failing. No torch here: this is the static path.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from golf import __version__
from golf.errors import GolfError
from golf.io import atomic_write_text
from golf.read.logs import ScoreLine, choose_score
from golf.read.records import Record, RecordLog, load_record
from golf.rules import Ruleset, Track, load_ruleset
from golf.judge.stats import SIGN_CONVENTION, mean_and_sd, significance

SCHEMA_VERSION = "1"
SCHEMA_FILE = "submission.schema.json"
IDENTITY = ("name", "author", "github_id", "date", "track", "blurb")
REQUIRED_IDENTITY = ("name", "author", "github_id")
# Keys golf recomputes; stale copies under legacy names are dropped (the .bak keeps them).
MANAGED = {"schema_version", "val_bpb", "val_loss", "val_bpb_std", "val_loss_std", "bytes_total", "bytes_code",
           "bytes_model", "seeds", "score", "runs", "sizes", "significance", "run", "environment", "generator",
           "mean_val_bpb", "mean_bpb", "mean_val_loss", "std_val_bpb", "bpb_std", "std_val_loss", "artifact_bytes",
           "artifact_size_bytes", "artifact_bytes_max", "artifact_bytes_mean", "code_bytes", "model_bytes",
           "seed_results", "score_label", *IDENTITY}


@dataclass
class SubmitOptions:
    author: str | None = None
    github_id: str | None = None
    name: str | None = None
    blurb: str | None = None
    track: str | None = None
    date: str | None = None
    sota: float | None = None
    sota_record: Path | None = None
    score_label: str | None = None
    command: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    ruleset: str | None = None


@dataclass
class SubmitResult:
    record_dir: Path
    path: Path
    submission: dict | None = None
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False
    unchanged: bool = False        # submission.json already held exactly this content
    backup: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.submission is not None

    def to_dict(self) -> dict:
        return {"ok": self.ok, "record": str(self.record_dir), "path": str(self.path), "written": self.written,
                "unchanged": self.unchanged, "backup": str(self.backup) if self.backup else None, "failures": self.failures,
                "warnings": self.warnings, "submission": self.submission}


# ---------------------------------------------------------------------------
# Scores of a record's runs (also used for a SOTA record)
# ---------------------------------------------------------------------------

def score_runs(record: Record, ruleset: Ruleset, override: str | None = None) -> list[tuple[RecordLog, ScoreLine | None]]:
    """Each log that is not a byte-identical copy, with its chosen score line (None when it has none)."""
    label = override or (record.submission.score_label if record.submission else None)
    return [(log, choose_score(log.run, ruleset.label_precedence, ruleset.excluded_labels, label))
            for log in record.unique_logs]


def sota_from_record(path: str | Path, ruleset: Ruleset) -> tuple[float, list[float], str]:
    """Mean and per-run val_bpb of a SOTA record folder, from its logs."""
    record = load_record(path)
    values = [score.val_bpb for _, score in score_runs(record, ruleset) if score is not None]
    if not values:
        raise GolfError(f"{path}: the SOTA record has no scored runs in its logs")
    return sum(values) / len(values), values, f"record {Path(path).as_posix()} ({len(values)} runs from its logs)"


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------

def build_submission(record_dir: str | Path, options: SubmitOptions | None = None,
                     ruleset: Ruleset | None = None) -> SubmitResult:
    options = options or SubmitOptions()
    ruleset = ruleset or load_ruleset(options.ruleset)
    record = load_record(record_dir)
    result = SubmitResult(record_dir=record.root, path=record.root / "submission.json")
    existing = record.submission.raw if record.submission else {}
    for problem in record.submission_problems:
        result.warnings.append(f"existing metadata: {problem}")

    identity = _identity(record, options, ruleset, result)
    track = _track(identity, ruleset, result)
    _check_files(record, ruleset, result)
    runs = _runs(record, ruleset, options.score_label, track, result)
    if not runs:
        return result

    bpbs = [r["val_bpb"] for r in runs]
    losses = [r["val_loss"] for r in runs]
    bpb_mean, bpb_sd = mean_and_sd(bpbs)
    loss_mean, loss_sd = mean_and_sd(losses)
    code_bytes = runs[0]["bytes_code"]
    sizes = {"bytes_total": max(r["bytes_total"] for r in runs), "bytes_code": code_bytes,
             "bytes_model": max(r["bytes_model"] for r in runs),
             "byte_cap": track.byte_cap if track else ruleset.track().byte_cap,
             "code_bytes_policy": ruleset.code_bytes_policy.policy, "code_file": ruleset.code_bytes_policy.script}
    if track and sizes["bytes_total"] > track.byte_cap:
        worst = max(runs, key=lambda r: r["bytes_total"])
        result.failures.append(f"over the cap: {worst['log']} totals {worst['bytes_total']:,} bytes "
                               f"(model {worst['bytes_model']:,} + code {code_bytes:,}), cap {track.byte_cap:,}")
    sig = _significance(bpbs, loss_mean / bpb_mean, options, ruleset, track, result)

    submission = {"schema_version": SCHEMA_VERSION, **identity,
                  "val_bpb": bpb_mean, "val_loss": loss_mean, "val_bpb_std": bpb_sd, "val_loss_std": loss_sd,
                  "bytes_total": sizes["bytes_total"], "bytes_code": code_bytes, "bytes_model": sizes["bytes_model"],
                  "seeds": [r["seed"] for r in runs],
                  "score": {"metric": ruleset.metric, "label": options.score_label or _existing_label(record),
                            "n_runs": len(runs), "val_bpb": {"mean": bpb_mean, "std": bpb_sd},
                            "val_loss": {"mean": loss_mean, "std": loss_sd}},
                  "runs": runs, "sizes": sizes, "significance": sig,
                  "run": _run_block(options, existing, track, ruleset, result),
                  "environment": _environment(record, result),
                  "generator": {"tool": "golf", "version": __version__, "ruleset": ruleset.name,
                                "ruleset_version": ruleset.version}}
    for key, value in existing.items():
        if key not in MANAGED and not key.startswith("bytes_model_"):
            submission[key] = value
    for error in validate_submission(submission):
        result.failures.append(f"schema: {error}")
    result.submission = submission
    return result


def _existing_label(record: Record) -> str | None:
    return record.submission.score_label if record.submission else None


def _identity(record: Record, options: SubmitOptions, ruleset: Ruleset, result: SubmitResult) -> dict:
    sub = record.submission
    identity = {}
    for key in IDENTITY:
        value = getattr(options, key)
        if value is None and sub is not None:
            value = getattr(sub, key)
        identity[key] = value.strip() if isinstance(value, str) else value
    if not identity["name"] and record.name:
        identity["name"] = record.name
    if not identity["date"]:
        identity["date"] = record.date or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d")
    if not identity["track"] and ruleset.find_track(record.track_dir):
        identity["track"] = record.track_dir          # records/<track>/<folder>
    for key in REQUIRED_IDENTITY:
        if not identity[key]:
            flag = "--" + key.replace("_", "-")
            result.failures.append(f"missing {key}: pass {flag} (or add `{key}` to submission.json)")
    if not identity["blurb"]:
        result.warnings.append("no blurb: a one-line summary helps reviewers (--blurb)")
    return identity


def _track(identity: dict, ruleset: Ruleset, result: SubmitResult) -> Track | None:
    if not identity["track"]:
        result.failures.append("missing track: pass --track (e.g. " + ", ".join(ruleset.tracks) + ")")
        return None
    track = ruleset.find_track(identity["track"])
    if track is None:
        result.failures.append(f"unknown track {identity['track']!r} in ruleset {ruleset.name} "
                               f"(known: {', '.join(ruleset.tracks)}); pass --track")
        return None
    identity["track"] = track.name
    return track


def _check_files(record: Record, ruleset: Ruleset, result: SubmitResult) -> None:
    for name in ruleset.required_files:
        if name == "submission.json":
            continue          # this is the file being written
        if name not in record.files:
            result.failures.append(f"missing required file {name} in {record.root}")
    if len(record.logs) < ruleset.min_logs:
        result.failures.append(f"no training logs (*.log, or *.txt logs) in {record.root}: "
                               f"at least {ruleset.min_logs} log written by the script is required")
    for path, reason in record.skipped:
        result.warnings.append(f"skipped {path}: {reason}")


def _runs(record: Record, ruleset: Ruleset, override: str | None, track: Track | None,
          result: SubmitResult) -> list[dict]:
    script = ruleset.code_bytes_policy.script
    code_bytes = (record.root / script).stat().st_size if script in record.files else None
    runs, seen_seeds = [], {}
    for log, score in score_runs(record, ruleset, override):
        run = log.run
        if run is None:
            result.failures.append(f"{log.path}: no training run found in the log")
            continue
        if score is None:
            wanted = f"label {override!r}" if override else "a label in the ruleset precedence"
            result.failures.append(f"{log.path}: no score line with {wanted} (a crashed or truncated run?)")
            continue
        if run.model_bytes is None:
            result.failures.append(f"{log.path}: no compressed model size line (`Serialized model <format>: N bytes`)")
            continue
        if code_bytes is None:
            continue          # reported as a missing required file
        if run.code_bytes is not None and run.code_bytes != code_bytes:
            result.warnings.append(f"{log.path}: the log counted {run.code_bytes:,} code bytes; the shipped {script} "
                                   f"is {code_bytes:,} bytes, which is what counts")
        if log.seeds_disagree:
            sources = ", ".join(f"{k} {v}" for k, v in log.seed_sources.items())
            result.warnings.append(f"{log.path}: seed sources disagree ({sources}); using {log.seed}")
        if log.seed is None:
            result.warnings.append(f"{log.path}: no seed found in the log, its name or submission.json")
        elif log.seed in seen_seeds:
            result.warnings.append(f"{log.path}: seed {log.seed} was already used by {seen_seeds[log.seed]}")
        else:
            seen_seeds[log.seed] = log.path
        _check_times(log.path, run, track, result)
        eval_ms = run.total_eval_time_ms if run.total_eval_time_ms is not None else score.eval_time_ms
        runs.append({"seed": log.seed, "seed_sources": dict(log.seed_sources),
                     "val_bpb": score.val_bpb, "val_loss": score.val_loss,
                     "bytes_total": run.model_bytes + code_bytes, "bytes_code": code_bytes,
                     "bytes_model": run.model_bytes, "train_time_ms": run.train_time_ms,
                     "eval_time_ms": eval_ms, "steps": run.steps, "log": log.path, "log_sha256": log.sha256,
                     "score_label": score.label, "score_line": score.line})
    if track and track.record and 0 < len(runs):
        policy = ruleset.significance
        if len(runs) < policy.min_runs:
            result.failures.append(f"{len(runs)} scored run(s): a record claim on {track.name} needs at least "
                                   f"{policy.min_runs} for a significance test")
        elif len(runs) < policy.recommended_runs:
            result.warnings.append(f"{len(runs)} scored runs: {policy.recommended_runs} are usual for a record claim")
    return runs


def _check_times(path: str, run, track: Track | None, result: SubmitResult) -> None:
    if track is None:
        return
    if track.train_time_limit_ms is not None:
        limit = track.train_time_limit_ms + track.train_time_tolerance_ms
        if run.train_time_ms is None:
            result.warnings.append(f"{path}: no train_time in the log to compare with the {track.name} limit")
        elif run.train_time_ms > limit:
            result.failures.append(f"{path}: train_time {run.train_time_ms:,.0f} ms is over the limit of "
                                   f"{track.train_time_limit_ms:,} ms (+{track.train_time_tolerance_ms} ms for the last step)")
    if track.eval_time_limit_ms is not None and run.total_eval_time_ms is not None \
            and run.total_eval_time_ms > track.eval_time_limit_ms:
        result.failures.append(f"{path}: evaluation took {run.total_eval_time_ms:,.0f} ms, over the limit of "
                               f"{track.eval_time_limit_ms:,} ms")
    if run.world_size is not None and run.world_size != track.processes:
        result.warnings.append(f"{path}: world_size {run.world_size}, the {track.name} track runs "
                               f"{track.processes} processes")


def _significance(values: list[float], ratio: float, options: SubmitOptions, ruleset: Ruleset,
                  track: Track | None, result: SubmitResult) -> dict | None:
    if options.sota is not None and options.sota_record is not None:
        raise GolfError("give --sota or --sota-record, not both")
    if options.sota_record is not None:
        sota, sota_values, source = sota_from_record(options.sota_record, ruleset)
    elif options.sota is not None:
        sota, sota_values, source = options.sota, None, "--sota on the command line"
    else:
        if track and track.record:
            result.warnings.append("no SOTA given (--sota or --sota-record): significance not computed")
        return None
    policy = ruleset.significance
    sig = significance(values, sota, policy.delta, policy.unit, policy.alpha,
                       ratio=ratio if math.isfinite(ratio) else None, sota_values=sota_values, gate=policy.gate)
    gating = sig.gating
    if track and track.record:
        if gating.passed is None:
            result.failures.append(f"significance cannot be tested: {gating.reason}")
        elif not gating.passed:
            result.failures.append(f"not significant: one-sided {gating.test} p = {gating.p:.4g} is not below "
                                   f"alpha {policy.alpha} (mean must beat {gating.reference:.8f})")

    def test(t):
        return None if t is None else {"t": t.t, "df": t.df, "p": t.p, "reference": t.reference,
                                       "passed": t.passed, "reason": t.reason}

    return {"test": gating.test, "sign_convention": SIGN_CONVENTION, "reference_sota": sota,
            "reference_source": source, "reference_values": sota_values, "delta": policy.delta,
            "unit": policy.unit, "alpha": policy.alpha, "ratio": sig.ratio, "t": gating.t, "df": gating.df,
            "p": gating.p, "passed": gating.passed, "reason": gating.reason,
            "readings": {unit: {"delta_bpb": r.delta_bpb, "threshold": r.threshold,
                                "one_sample": test(r.one_sample), "welch": test(r.welch)}
                         for unit, r in sig.readings.items()}}


def _run_block(options: SubmitOptions, existing: dict, track: Track | None, ruleset: Ruleset,
               result: SubmitResult) -> dict:
    old = existing.get("run") if isinstance(existing.get("run"), dict) else {}
    command = options.command or old.get("command")
    if not command:
        command = (track or ruleset.track()).command(ruleset.code_bytes_policy.script)
    env = dict(old.get("env") or {}) if isinstance(old.get("env"), dict) else {}
    env.update(options.env)
    return {"command": command, "env": {str(k): str(v) for k, v in env.items()}}


def _environment(record: Record, result: SubmitResult) -> dict:
    found = {"python": set(), "torch": set(), "world_size": set()}
    gpus: list[str] = []
    for log in record.unique_logs:
        run = log.run
        if run is None:
            continue
        for key, value in (("python", run.python_version), ("torch", run.torch_version),
                           ("world_size", run.world_size)):
            if value is not None:
                found[key].add(value)
        if run.gpus and not gpus:
            gpus = list(run.gpus)
    for key in ("python", "torch"):
        if len(found[key]) > 1:
            result.warnings.append(f"the logs ran different {key} versions: {', '.join(sorted(found[key]))}")
    return {"python": min(found["python"]) if found["python"] else None,
            "torch": min(found["torch"]) if found["torch"] else None, "gpus": gpus,
            "world_size": max(found["world_size"]) if found["world_size"] else None}


# ---------------------------------------------------------------------------
# Schema, writing, rendering
# ---------------------------------------------------------------------------

def load_schema() -> dict:
    return json.loads((resources.files("golf.schemas") / SCHEMA_FILE).read_text("utf-8"))


def validate_submission(data: dict) -> list[str]:
    """Schema errors as readable strings (empty when valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}" for e in errors]


def write_submission(result: SubmitResult) -> SubmitResult:
    """Write submission.json atomically (previous content kept as .bak when it differs). Only when ok."""
    if not result.ok:
        raise GolfError("refusing to write submission.json: " + "; ".join(result.failures))
    text = json.dumps(result.submission, indent=2, ensure_ascii=False) + "\n"
    if result.path.is_file() and result.path.read_bytes() == text.encode("utf-8"):
        result.unchanged = True
        return result
    result.backup = atomic_write_text(result.path, text)
    result.written = True
    return result


def _fmt(value, digits=8) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ms(value) -> str:
    return "–" if value is None else f"{value / 1000:.1f} s"


def render_markdown(result: SubmitResult) -> str:
    """A summary a person can paste into a pull request."""
    sub = result.submission
    if sub is None:
        return "\n".join(["### golf submit: nothing to summarise", ""] + [f"- {f}" for f in result.failures]) + "\n"
    lines = [f"### {sub['name']}", "",
             f"**Author:** {sub['author']} (@{sub['github_id']}) · **Track:** `{sub['track']}` · **Date:** {sub['date']}", ""]
    if sub.get("blurb"):
        lines += [sub["blurb"], ""]
    lines += ["| seed | val_bpb | val_loss | bytes total | train time | eval time | log |",
              "|---:|---:|---:|---:|---:|---:|---|"]
    for run in sub["runs"]:
        lines.append(f"| {run['seed'] if run['seed'] is not None else '?'} | {_fmt(run['val_bpb'])} | "
                     f"{_fmt(run['val_loss'])} | {run['bytes_total']:,} | {_ms(run['train_time_ms'])} | "
                     f"{_ms(run['eval_time_ms'])} | `{run['log']}` |")
    score = sub["score"]
    lines.append(f"| **mean ± sd** | **{_fmt(score['val_bpb']['mean'])}** ± {_fmt(score['val_bpb']['std'])} | "
                 f"{_fmt(score['val_loss']['mean'])} ± {_fmt(score['val_loss']['std'])} | | | | |")
    sizes = sub["sizes"]
    lines += ["", f"**Size:** {sizes['bytes_total']:,} bytes at most (model {sizes['bytes_model']:,} + code "
                  f"{sizes['bytes_code']:,} bytes of `{sizes['code_file']}`), cap {sizes['byte_cap']:,}."]
    sig = sub["significance"]
    if sig is None:
        lines.append("**Significance:** not computed (no SOTA given).")
    else:
        verdict = {True: "PASS", False: "FAIL", None: "cannot test"}[sig["passed"]]
        t = "–" if sig["t"] is None else f"{sig['t']:.3f}"
        df = "–" if sig["df"] is None else f"{sig['df']:.2f}"
        p = "–" if sig["p"] is None else f"{sig['p']:.4g}"
        lines.append(f"**Significance ({verdict}):** one-sided {sig['test']} t test against SOTA "
                     f"{sig['reference_sota']:.8f} ({sig['reference_source']}) minus {sig['delta']} {sig['unit']}, "
                     f"alpha {sig['alpha']}: t = {t}, df = {df}, p = {p}.")
        for unit, reading in sig["readings"].items():
            test = reading["one_sample"]
            if test and test["p"] is not None:
                lines.append(f"- delta read as {unit} ({_fmt(reading['delta_bpb'], 5)} bpb): one-sample "
                             f"p = {test['p']:.4g}")
            else:
                lines.append(f"- delta read as {unit}: {test['reason'] if test else 'not computed'}")
        if sig.get("reason"):
            lines.append(f"- {sig['reason']}")
    env = sub["environment"]
    command = sub["run"]["command"]
    command = command if isinstance(command, str) else " ".join(command)
    run_env = ", ".join(f"{k}={v}" for k, v in sub["run"]["env"].items())
    gpus = f"{len(env['gpus'])} × {env['gpus'][0]}" if env["gpus"] else "no GPU listed in the logs"
    lines += ["", f"Reproduce: `{command}`" + (f" with {run_env}" if run_env else ""),
              f"Environment: Python {env['python'] or '?'}, PyTorch {env['torch'] or '?'}, {gpus}.",
              f"_Generated by golf {sub['generator']['version']} with ruleset {sub['generator']['ruleset']} "
              f"{sub['generator']['ruleset_version']}._"]
    return "\n".join(lines) + "\n"


__all__ = ["SubmitOptions", "SubmitResult", "build_submission", "load_schema", "render_markdown", "score_runs",
           "sota_from_record", "validate_submission", "write_submission"]
