"""`golf logs FILE...`: what the log grammar reads in training logs."""

from __future__ import annotations

import argparse

from golf.cli import options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "logs", help="parse training logs and show the runs, scores, times and sizes found",
        description="Parse training logs of the challenge (any format family) and show, per file, the run's "
                    "score (chosen by the ruleset's label classes), steps, train and eval time, sizes, "
                    "seed, world size, the embedded source's sha256 and any problems met. By default only the "
                    "last complete run of each file is shown.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="log files to parse")
    options.add_format(parser, "logs")
    parser.add_argument("--all-runs", action="store_true",
                        help="show every run found in a file, not only the last complete one")
    options.add_ruleset(parser)
    parser.add_argument("--label", metavar="GLOB",
                        help="take the score from lines with this label (overrides the label classes)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from golf.render.formats import show
    import os

    from golf.errors import GolfError
    from golf.read.logs import parse_log

    ruleset = options.judging_from(args).default_ruleset   # --ruleset, else the configuration's, else the default
    reports = []
    for name in args.files:
        if os.path.isdir(name):
            raise GolfError(f"{name}: is a directory, not a log file")
        if not os.path.lexists(name):
            raise GolfError(f"{name}: no such file")
        try:
            parsed = parse_log(name)
        except OSError as error:
            raise GolfError(f"{name}: cannot read ({error.strerror or error})") from None
        reports.append(_file_report(name, parsed, ruleset, args.label, args.all_runs))
    show("logs", args.format, {"files": reports, "score_rules": True, "ruleset": ruleset.label})
    return 0




def _file_report(name, parsed, ruleset, override, all_runs) -> dict:
    chosen_run = parsed.run
    runs = parsed.runs if all_runs else ([chosen_run] if chosen_run is not None else [])
    return {
        "file": name,
        "lines": parsed.lines,
        "runs_found": len(parsed.runs),
        "problems": list(parsed.problems),
        "runs": [_run_report(run, parsed.runs.index(run) + 1, ruleset, override) for run in runs],
    }


def _run_report(run, index, ruleset, override) -> dict:
    from dataclasses import asdict

    from golf.judge.facts import score_of
    from golf.judge.labels import place

    score = score_of(run, ruleset, override=override)
    return {
        "index": index,
        "first_line": run.first_line,
        "last_line": run.last_line,
        "complete": run.complete,
        "score": asdict(score) if score else None,
        # each line with the ruleset's place for its label: a class (ttt, sliding, ...), or why it is no score
        "scores": [dict(asdict(s), place=place(s.label, ruleset).place) for s in run.scores],
        "printed_claims": [asdict(c) for c in run.printed_claims],
        "steps": run.steps,
        "total_steps": run.total_steps,
        "stop_reason": run.stop_reason,
        "train_time_ms": run.train_time_ms,
        "step_avg_ms": run.step_avg_ms,
        "eval_times_ms": dict(run.eval_times_ms),
        "total_eval_time_ms": run.total_eval_time_ms,
        "total_eval_time_logged": run.logged_total_eval_time_ms is not None,
        "peak_memory_mib": run.peak_memory_mib,
        "model_bytes": run.model_bytes,
        "code_bytes": run.code_bytes,
        "total_bytes": run.total_bytes,
        "sizes": [asdict(s) for s in run.sizes],
        "seed": run.seed,
        "world_size": run.world_size,
        "python_version": run.python_version,
        "torch_version": run.torch_version,
        "gpus": list(run.gpus),
        "source_sha256": run.source_sha256,
        "source_lines": [run.source_first_line, run.source_last_line] if run.source_sha256 else None,
        "periodic_validations": len(run.periodic),
        "config": dict(run.config),
    }


