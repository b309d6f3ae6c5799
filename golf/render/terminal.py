"""The console golf prints to people with: colour and tables at a terminal, plain unwrapped lines when piped.

Piped output (to a file, `less`, `grep`, a CI log) is never wrapped at 80 columns, never padded with trailing
spaces, and numbers inside paths are not coloured: rich's highlighter is off everywhere.
"""

from __future__ import annotations

# Wide enough that no table cell is folded when the output is not a terminal.
PIPED_WIDTH = 10_000


def make_console(stderr: bool = False):
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(stderr=stderr, highlight=False, soft_wrap=True, width=PIPED_WIDTH, no_color=True)
    return console


def print_block(console, renderable) -> None:
    """Print a table (or any renderable); piped, without the trailing spaces rich pads lines with."""
    if console.is_terminal:
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    console.file.write(text + "\n")


__all__ = ["PIPED_WIDTH", "make_console", "print_block"]
