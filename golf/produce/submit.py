"""`golf submit`: verify the record folder, then write the facts golf verify verified into submission.json.

submit is not a second verifier. It judges the folder with golf.judge.verify (the identity
fields a person gives standing in for the submission.json about to be replaced), refuses
while any error finding remains other than those of the "claim" rules (they judge the very
file being replaced), and writes the score, spread, sizes, seeds and significance exactly
as verify derived them (golf.judge.facts). What submit writes, verify passes.

The result is validated against schemas/submission.schema.json and written atomically,
keeping the previous file as .bak. No torch here: this is the static path.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from golf import __version__
from golf.errors import GolfError
from golf.io import atomic_write_text, dumps_json, read_bytes
from golf.read.records import IDENTITY_FIELDS, REQUIRED_IDENTITY, normalise_submission, read_submission
from golf.read.runenv import derive_env, disagreements, script_defaults

SCHEMA_VERSION = "2"
SCHEMA_FILE = "submission.schema.json"
# Keys golf derives; stale copies under legacy names are dropped (the .bak keeps them).
MANAGED = {"schema_version", "val_bpb", "val_loss", "val_bpb_std", "val_loss_std", "bytes_total", "bytes_code",
           "bytes_model", "seeds", "score", "runs", "sizes", "significance", "run", "environment", "generator",
           "mean_val_bpb", "mean_bpb", "mean_val_loss", "std_val_bpb", "bpb_std", "std_val_loss", "artifact_bytes",
           "artifact_size_bytes", "artifact_bytes_max", "artifact_bytes_mean", "code_bytes", "model_bytes",
           "seed_results", "score_label", *IDENTITY_FIELDS}


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
    report: object = None            # golf.judge.report.RecordReport of the verification
    written: bool = False
    unchanged: bool = False          # submission.json already held exactly this content
    backup: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.submission is not None

    def to_dict(self) -> dict:
        return {"ok": self.ok, "record": str(self.record_dir), "path": str(self.path), "written": self.written,
                "unchanged": self.unchanged, "backup": str(self.backup) if self.backup else None,
                "failures": self.failures, "warnings": self.warnings, "submission": self.submission,
                "findings": [f.to_dict() for f in self.report.findings] if self.report is not None else []}


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------

def build_submission(record_dir: str | Path, options: SubmitOptions | None = None, ruleset=None,
                     verifier=None) -> SubmitResult:
    """Verify the folder and, when nothing but the claims fails, the submission.json to write."""
    from golf.judge.findings import blocking
    from golf.judge.verify import Verifier

    options = options or SubmitOptions()
    root = Path(record_dir)
    if not root.is_dir():
        raise GolfError(f"{record_dir}: not a record folder")
    if verifier is None:
        verifier = Verifier(ruleset=ruleset or options.ruleset, sota=options.sota, sota_record=options.sota_record)
    result = SubmitResult(record_dir=root, path=root / "submission.json")
    existing, _ = read_submission(root)
    raw = dict(existing.raw) if existing is not None else {}

    identity = _identity(root, raw, options, verifier.ruleset, result)
    # The draft keeps what the participant wrote that changes the verdict: the score label and the
    # reproductions listed for pooling.
    draft = normalise_submission({**identity, "score_label": options.score_label or raw.get("score_label"),
                                  "reproductions": raw.get("reproductions")}, "submission.json")
    ctx, report = verifier.judge(root, submission=draft)
    result.report = report
    for finding in blocking(report.findings, allow=("claim",)):
        result.failures.append(f"{finding.code} {finding.name}: {finding.message}")
    result.warnings += [f"{f.code} {f.name}: {f.message}" for f in report.findings if f.severity == "warning"
                        and f.group != "claim"]
    if ctx is None or result.failures:
        return result
    if not ctx.counted:
        result.failures.append("no scored run in the logs: nothing to claim")
        return result
    submission = _submission(ctx, report, identity, raw, options, ctx.ruleset, result)
    for error in validate_submission(submission):
        result.failures.append(f"schema: {error}")
    result.submission = submission
    return result


def _identity(root: Path, raw: dict, options: SubmitOptions, ruleset, result: SubmitResult) -> dict:
    from golf.judge.facts import date_from_name

    identity = {}
    for key in IDENTITY_FIELDS:
        value = getattr(options, key)
        if value is None:
            value = raw.get(key)
        identity[key] = value.strip() if isinstance(value, str) else value
    folder = root.resolve()
    if not identity["name"]:
        identity["name"] = folder.name.split("_", 1)[1] if date_from_name(folder.name) and "_" in folder.name \
            else folder.name
    if not identity["date"]:
        identity["date"] = date_from_name(folder.name) or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d")
    track = ruleset.find_track(identity["track"]) or ruleset.find_track(folder.parent.name)
    if identity["track"] and ruleset.find_track(identity["track"]) is None:
        result.failures.append(f"unknown track {identity['track']!r} in ruleset {ruleset.name} "
                               f"(known: {', '.join(ruleset.tracks)}); pass --track")
    elif track is None:
        result.failures.append("missing track: the folder is not under records/<track>/; pass --track (e.g. "
                               + ", ".join(ruleset.tracks) + ")")
    else:
        identity["track"] = track.name
    for key in REQUIRED_IDENTITY:
        if not identity[key]:
            flag = "--" + key.replace("_", "-")
            result.failures.append(f"missing {key}: pass {flag} (or add `{key}` to submission.json)")
    if not identity["blurb"]:
        result.warnings.append("no blurb: a one-line summary helps reviewers (--blurb)")
    return identity


def _submission(ctx, report, identity: dict, raw: dict, options: SubmitOptions, ruleset,
                result: SubmitResult) -> dict:
    from golf.judge.facts import summarise

    counted = ctx.counted
    agg = summarise(ctx.runs)
    runs = [_run(r) for r in counted]
    # The code bytes the ruleset counts (the shipped script, or its packed wrapper), as the totals do.
    codes = {r.bytes_code for r in counted if r.bytes_code is not None}
    sizes = {"bytes_total": agg.bytes_total_max, "bytes_code": max(codes) if codes else ctx.script_size,
             "bytes_code_shipped": ctx.script_size, "bytes_model": agg.bytes_model_max,
             "byte_cap": ctx.track.byte_cap, "code_bytes_policy": ruleset.code_bytes_policy.policy,
             "code_file": ruleset.code_bytes_policy.script}
    label = options.score_label or raw.get("score_label")
    # An identity field nobody gave is left out, not written as null (verify warns about a null).
    given = {key: value for key, value in identity.items() if value is not None}
    submission = {"schema_version": SCHEMA_VERSION, **given, "val_bpb": agg.val_bpb_mean,
                  "val_loss": agg.val_loss_mean}
    if agg.val_bpb_std is not None:
        submission["val_bpb_std"] = agg.val_bpb_std
    if agg.val_loss_std is not None:
        submission["val_loss_std"] = agg.val_loss_std
    for key in ("bytes_total", "bytes_code", "bytes_model"):
        if sizes[key] is not None:
            submission[key] = sizes[key]
    if label:
        submission["score_label"] = label
    submission.update({
        "seeds": [r.seed for r in counted],
        "score": {"metric": ruleset.metric, "label": label, "n_runs": agg.n_runs,
                  "val_bpb": {"mean": agg.val_bpb_mean, "std": agg.val_bpb_std},
                  "val_loss": {"mean": agg.val_loss_mean, "std": agg.val_loss_std}},
        "runs": runs, "sizes": sizes, "significance": _significance(report),
        "run": _run_block(options, raw, ctx, ruleset, result),
        "environment": _environment(counted, result),
        "generator": {"tool": "golf", "version": __version__, "ruleset": ruleset.name,
                      "ruleset_version": ruleset.version}})
    for key, value in raw.items():
        if key not in MANAGED and not key.startswith("bytes_model_"):
            submission[key] = value
    return submission


def _run(r) -> dict:
    eval_ms = r.eval_time_ms if r.eval_time_ms is not None else r.score.eval_time_ms
    return {"seed": r.seed, "seed_sources": dict(r.seed_sources), "val_bpb": r.val_bpb, "val_loss": r.val_loss,
            "bytes_total": r.bytes_total, "bytes_code": r.bytes_code, "bytes_model": r.bytes_model,
            "train_time_ms": r.train_time_ms, "eval_time_ms": eval_ms, "steps": r.run.steps, "log": r.log,
            "log_sha256": r.log_sha256, "score_label": r.score.label, "score_line": r.score.line}


def _significance(report) -> dict:
    """The verify report's significance, with the SOTA it was tested against."""
    stats = report.stats
    sig = dict(stats.get("significance") or {})
    sig.setdefault("applicable", True)
    sig["reference"] = stats.get("sota")
    return sig


def _run_block(options: SubmitOptions, raw: dict, ctx, ruleset, result: SubmitResult) -> dict:
    old = raw.get("run") if isinstance(raw.get("run"), dict) else {}
    command = options.command or old.get("command") or ctx.track.command(ruleset.code_bytes_policy.script)
    env = dict(old.get("env") or {}) if isinstance(old.get("env"), dict) else {}
    env.update(options.env)
    env = {str(k): str(v) for k, v in env.items()}
    if not env:
        env = _env_from_logs(ctx, result)
    _check_env(ctx, env, result)
    return {"command": command, "env": env}


def _env_from_logs(ctx, result: SubmitResult) -> dict[str, str]:
    """run.env for a record whose run block has none: the printed settings that differ from the script's
    defaults. Settings the logs do not print cannot be recovered, which the warning says."""
    configs = [r.run.config for r in ctx.counted if r.run is not None]
    if not configs:
        return {}
    env = derive_env(configs[0], script_defaults(ctx.script_text))
    shown = ", ".join(f"{k}={v}" for k, v in env.items()) or "nothing beyond the defaults"
    result.warnings.append(f"run.env was empty: filled from the logs' printed settings ({shown}). Settings the "
                           "logs do not print (model shape, data paths) are left at the script's defaults; "
                           "pass --env KEY=VALUE for any you changed, or run the seeds with `golf train`, "
                           "which records them")
    return env


def _check_env(ctx, env: dict[str, str], result: SubmitResult) -> None:
    """G512 for the run block about to be written (verify judged the folder before this block existed)."""
    defaults = script_defaults(ctx.script_text)
    for r in ctx.counted:
        for name, expected, logged in disagreements(r.run.config if r.run else {}, env, defaults):
            result.failures.append(f"G512 run-env-mismatch: {r.log} ran {name}={logged}, but run.env would run "
                                   f"{name}={expected}: a rerun would not reproduce it (fix --env)")


def _environment(runs, result: SubmitResult) -> dict:
    found = {"python": set(), "torch": set(), "world_size": set()}
    gpus: list[str] = []
    for r in runs:
        run = r.run
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
    text = dumps_json(result.submission, indent=2, ensure_ascii=False) + "\n"
    # lexists/read_bytes(follow=False): a link or FIFO named submission.json is refused, never read through
    if os.path.lexists(result.path) and read_bytes(result.path, follow=False) == text.encode("utf-8"):
        result.unchanged = True
        return result
    result.backup = atomic_write_text(result.path, text)
    result.written = True
    return result


__all__ = ["SubmitOptions", "SubmitResult", "build_submission", "load_schema", "validate_submission",
           "write_submission"]
