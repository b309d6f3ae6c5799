"""Placeholder until this command group is written; registers nothing."""


def register(subparsers) -> None:
    return None
