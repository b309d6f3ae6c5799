"""`golf logs FILE...`: what the log grammar reads in training logs."""

from __future__ import annotations

import argparse

from golf.cli import options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "logs", help="parse training logs and show the runs, scores, times and sizes found",
        description="Parse training logs of the challenge (any format family) and show, per file, the run's "
                    "score (chosen with the ruleset's label precedence), steps, train and eval time, sizes, "
                    "seed, world size, the embedded source's sha256 and any problems met. By default only the "
                    "last complete run of each file is shown.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="log files to parse")
    options.add_format(parser, ("text", "json"))
    parser.add_argument("--all-runs", action="store_true",
                        help="show every run found in a file, not only the last complete one")
    options.add_ruleset(parser)
    parser.add_argument("--label", metavar="GLOB",
                        help="take the score from lines with this label (overrides the precedence)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from golf.io import dumps_json
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
    if args.format == "json":
        print(dumps_json({"files": reports, "score_rules": True, "ruleset": ruleset.label}, indent=2))
    else:
        _print_human(reports, True)
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

    score = score_of(run, ruleset, override=override)
    return {
        "index": index,
        "first_line": run.first_line,
        "last_line": run.last_line,
        "complete": run.complete,
        "score": asdict(score) if score else None,
        "scores": [asdict(s) for s in run.scores],
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


def _fmt(value, spec="") -> str:
    if value is None:
        return "-"
    return format(value, spec)


def _print_human(reports, have_rules) -> None:
    from rich import box
    from rich.table import Table

    from golf.render.terminal import make_console, print_block

    console = make_console()
    for report in reports:
        if not report["runs"]:
            console.print(f"[bold]{report['file']}[/bold]: no run found ({report['lines']} lines)")
        for run in report["runs"]:
            state = "" if run["complete"] else " [yellow](incomplete)[/yellow]"
            table = Table(title=f"{report['file']}  run {run['index']}/{report['runs_found']} "
                                f"(lines {run['first_line']}-{run['last_line']}){state}",
                          box=box.SIMPLE_HEAD, show_header=False, title_justify="left")
            table.add_column("field", style="bold", no_wrap=True)
            table.add_column("value", overflow="fold")
            for field, value in _human_fields(run):
                table.add_row(field, value)
            print_block(console, table)
        for problem in report["problems"]:
            console.print(f"[yellow]{report['file']}: {problem}[/yellow]")
    if not have_rules:
        console.print("[yellow]no ruleset could be loaded: no score chosen (use --label GLOB)[/yellow]")


def _human_fields(run) -> list[tuple[str, str]]:
    score = run["score"]
    steps = f"{run['steps']}/{run['total_steps']}" if run["steps"] is not None else "-"
    if run["stop_reason"]:
        steps += f" ({run['stop_reason']})"
    train = run["train_time_ms"] / 1000 if run["train_time_ms"] is not None else None
    evals = run["total_eval_time_ms"] / 1000 if run["total_eval_time_ms"] is not None else None
    phases = ", ".join(f"{label} {ms / 1000:.1f}s" for label, ms in run["eval_times_ms"].items())
    return [
        ("score label", score["label"] if score else "-"),
        ("val_loss", _fmt(score and score["val_loss"], ".8f")),
        ("val_bpb", _fmt(score and score["val_bpb"], ".8f")),
        ("score line", _fmt(score and score["line"])),
        ("steps", steps),
        ("train time", f"{_fmt(train, '.3f')} s  (step avg {_fmt(run['step_avg_ms'], '.2f')} ms)"),
        ("eval time", f"{_fmt(evals, '.1f')} s " + ("(logged total)" if run["total_eval_time_logged"]
                                                    else "(sum of phases)") + (f": {phases}" if phases else "")),
        ("model bytes", _fmt(run["model_bytes"], ",")),
        ("code bytes", _fmt(run["code_bytes"], ",")),
        ("total bytes", _fmt(run["total_bytes"], ",")),
        ("peak memory", f"{_fmt(run['peak_memory_mib'], ',.0f')} MiB"),
        ("seed", _fmt(run["seed"])),
        ("world size", _fmt(run["world_size"])),
        ("python / torch", f"{run['python_version'] or '-'} / {run['torch_version'] or '-'}"),
        ("gpus", f"{len(run['gpus'])}x {run['gpus'][0]}" if run["gpus"] else "-"),
        ("source sha256", run["source_sha256"] or "-"),
    ]
