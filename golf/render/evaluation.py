"""`golf eval` and `golf size` as text."""

from __future__ import annotations


def eval_text(payload, *, request, loaded: dict, results: list[dict], report, **_options) -> None:
    """golf's scores of the artifact beside the record's printed lines (the JSON payload's sources as options)."""
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console = Console(width=max(console.width, 120))  # the score table has seven columns
    seq_len = loaded.get("seq_len", request.seq_len)
    for key in ("loader", "logits", "shape"):
        if loaded.get(key):
            console.print(f"{key}: {escape(str(loaded[key]))}")
    for name, text in loaded.get("numerics", {}).items():
        console.print(f"numerics {name}: {escape(text)}")
    for note in loaded.get("notes", []):
        console.print(f"note: {escape(note)}")
    if request.knobs:
        console.print("env: " + escape(" ".join(f"{k}={v} ({request.knob_sources.get(k, '?')})"
                                                for k, v in request.knobs.items())))
    table = Table(title=f"golf eval {request.record_dir.name}: {request.artifact.name}, seq_len {seq_len}",
                  box=box.SIMPLE_HEAD)
    for column in ("score", "numerics", "val_loss", "val_bpb", "targets", "bytes", "eval time"):
        table.add_column(column, justify="left" if column in ("score", "numerics") else "right", no_wrap=True)
    for r in results:
        label = r["mode"] + (f", stride {r['stride']}" if r["stride"] else "")
        table.add_row(label, r.get("numerics", ""), f"{r['val_loss']:.8f}", f"{r['val_bpb']:.8f}",
                      f"{r['targets']:,}", f"{r['bytes']:,}", f"{r['eval_time_ms']:.0f}ms")
    console.print(table)
    _print_differences(console, results)
    for c in report.comparisons:
        golf = f"{c.golf_bpb:.8f}" if c.golf_bpb is not None else "–"
        console.print(f"{escape(c.log)}:{c.line} {escape(c.label)} val_bpb {c.printed_bpb:.8f} | golf {golf} | "
                      f"difference {c.difference:+.2e}: {escape(c.explanation)}")
    for note in report.notes:
        console.print(f"note: {escape(note)}")
    for finding in report.findings:
        console.print(f"[bold red]finding:[/] {escape(finding)}")



def _print_differences(console, results: list[dict]) -> None:
    by_key = {(r["mode"], r.get("numerics")): r for r in results}
    for mode in ("standard", "sliding"):
        record, f32 = by_key.get((mode, "record")), by_key.get((mode, "float32"))
        if record and f32:
            console.print(f"{mode}: record numerics - float32 = {record['val_bpb'] - f32['val_bpb']:+.2e} bpb")


def size_text(report, **_options) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"golf size {report.record_dir}", show_header=True)
    table.add_column("part")
    table.add_column("bytes", justify="right")
    table.add_column("from")
    table.add_row("code", f"{report.code_bytes:,}", report.script)
    model = f"{report.model_bytes:,}" if report.model_bytes is not None else "not on disk"
    table.add_row("model", model, report.artifact)
    total = f"{report.total:,}" if report.total is not None else "unknown"
    table.add_row("total", total, "code + model")
    table.add_row("cap", f"{report.cap:,}", f"ruleset track {report.track}" if report.track else "given")
    console = Console()
    console.print(table)
    if report.fits is True:
        console.print(f"fits: {report.cap - report.total:,} bytes under the cap")
    elif report.fits is False:
        over = (report.total if report.total is not None else report.code_bytes) - report.cap
        console.print(f"[bold red]over the cap by {over:,} bytes[/]")
    else:
        console.print("the artifact is not on disk: the code alone fits; train or pass --artifact for the total")


def rescore_stdout(rescored, **_options) -> None:
    """golf eval's re-scores of a rerun's artifacts, after a text report."""
    from golf.produce.eval.rescore import rescore_lines

    for line in rescore_lines(rescored):
        print(line)


def rescore_stderr(rescored, **_options) -> None:
    """The same lines on stderr: a machine-readable report on stdout stays that alone."""
    import sys

    from golf.produce.eval.rescore import rescore_lines

    for line in rescore_lines(rescored):
        print(line, file=sys.stderr)


__all__ = ["eval_text", "rescore_stderr", "rescore_stdout", "size_text"]
