"""Argument value types shared by the commands: numbers are finite, counts are whole and bounded.

argparse reports a value a type refuses as a usage error (exit status 2) naming the option.
"""

from __future__ import annotations

import argparse
import math
import re

# argparse takes `-1e-3` or `-inf` for an option name (it only knows `-1` and `-1.5` as numbers),
# so `--delta -1e-3` failed with "expected one argument". Parsers get this wider pattern.
NEGATIVE_NUMBER = re.compile(r"^-(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|infinity|nan)$", re.IGNORECASE)
MAX_INT_DIGITS = 30


def finite_float(text: str) -> float:
    """A float that is a real number: `inf`, `nan` and overflowing literals like 1e999 are refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, not {text!r}")
    return value


def whole_number(text: str) -> int:
    """An int of at most MAX_INT_DIGITS digits (Python refuses 4300+ and converting many is slow)."""
    stripped = text.strip().lstrip("+-")
    if not stripped.isdigit() or len(stripped) > MAX_INT_DIGITS:
        raise argparse.ArgumentTypeError(f"not a whole number of at most {MAX_INT_DIGITS} digits: {text[:40]!r}")
    return int(text)


def positive_int(text: str) -> int:
    value = whole_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, not {text!r}")
    return value


def accept_negative_numbers(parser: argparse.ArgumentParser) -> None:
    """Let `parser` and every subcommand parser below it read `-1e-3` and `-inf` as values."""
    stack = [parser]
    while stack:
        current = stack.pop()
        current._negative_number_matcher = NEGATIVE_NUMBER
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
