"""`golf logs` as text: one table per run found in each log."""

from __future__ import annotations


def _fmt(value, spec="") -> str:
    from golf.read.numerals import fixed

    return fixed(value, spec=spec)



def print_logs(payload, **_options) -> None:
    """What `golf logs` read, file by file (the payload of its JSON output)."""
    reports, have_rules = payload["files"], payload["score_rules"]
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
    steps = f"{run['steps']}/{run['total_steps']}" if run["steps"] is not None else "–"
    if run["stop_reason"]:
        steps += f" ({run['stop_reason']})"
    train = run["train_time_ms"] / 1000 if run["train_time_ms"] is not None else None
    evals = run["total_eval_time_ms"] / 1000 if run["total_eval_time_ms"] is not None else None
    phases = ", ".join(f"{label} {ms / 1000:.1f}s" for label, ms in run["eval_times_ms"].items())
    return [
        ("score label", score["label"] if score else "–"),
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
        ("gpus", f"{len(run['gpus'])}x {run['gpus'][0]}" if run["gpus"] else "–"),
        ("source sha256", run["source_sha256"] or "–"),
    ]


__all__ = ["print_logs"]
