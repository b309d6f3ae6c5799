"""The result of `golf legality` as text, and beside the static reading in `golf verify --rerun --legality`.

How the two stand together is the ruleset's [legality] precedence: "dynamic" lets a test that ran
(pass or leak) decide over G404's reading of the code; a test that could not run leaves G404 as it is.
"""

from __future__ import annotations



def text_lines(result) -> list[str]:
    lines = [f"{result.verdict}: {result.reason}"]
    if result.first_leak:
        leak = result.first_leak
        lines.append(f"first leak: {leak['file']}:{leak['line']} in {leak['function']} ({leak['phase']}, "
                     f"{'under grad' if leak['grad'] else 'no grad'}), via {leak['via']}")
    if result.verdict != "cannot-run":
        lines.append(f"test: validation stream of {result.stream_tokens:,} tokens changed from position "
                     f"{result.tail_from}; {result.calls} loss computations and {result.compared_elements:,} "
                     f"losses of earlier targets compared to a relative tolerance of {result.tolerance:g}")
    for run in result.runs:
        if run["stage"] != "done" and run["last_lines"]:
            lines.append(f"{run['name']} run, last lines:")
            lines += [f"  {line}" for line in run["last_lines"]]
    lines += [f"note: {note}" for note in result.notes]
    lines.append(f"time: {result.seconds:.1f} s")
    return lines


def combined(result, static_findings, decided: str) -> list[str]:
    """Lines showing both readings and which one decides (golf.produce.legality.deciding)."""
    from golf.produce.legality import STATIC_CODES

    static = "flags " + "; ".join(f.message for f in static_findings) if static_findings else "no finding"
    lines = [f"legality (static, {'/'.join(STATIC_CODES)}): {static}",
             f"legality (dynamic, golf legality): {result.verdict}: {result.reason}"]
    if result.first_leak:
        leak = result.first_leak
        lines.append(f"legality (dynamic): first leak at {leak['file']}:{leak['line']} ({leak['phase']}), "
                     f"via {leak['via']}")
    if decided != "static":
        lines.append(f"legality: the dynamic result decides ({decided}; ruleset [legality] precedence = dynamic)")
    else:
        why = "the test could not run" if result.verdict == "cannot-run" else "ruleset precedence = static"
        lines.append(f"legality: the static reading stands ({why})")
    return lines


def legality_text(result, **_options) -> str:
    """`golf legality`'s text output."""
    return "\n".join(text_lines(result)) + "\n"


def combined_stdout(lines: list[str], **_options) -> str:
    """Both readings after a text report."""
    return "\n".join(lines) + "\n"


def combined_stderr(lines: list[str], **_options) -> None:
    """The same lines on stderr: a machine-readable report on stdout stays that alone."""
    import sys

    sys.stderr.write(combined_stdout(lines))
