"""The `golf` command line: argument parsing and exit codes only.

Each command group lives in golf/cli/<group>.py and exposes
`register(subparsers)`. Those modules import only argparse-level things at
import time, so `golf --help` and the static commands never load torch.
Exit status: 0 success, 1 a check failed (verify, ci, leaderboard --check),
2 bad input or usage, 3 the network cannot be reached (data fetch), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from golf import __version__
from golf.cli.types import accept_negative_numbers
from golf.errors import GolfError

# The module that registers each command: `golf --help` loads them all, a command only its own.
COMMANDS = {
    "data": "golf.cli.data",
    "eval": "golf.cli.evaluation",
    "size": "golf.cli.evaluation",
    "logs": "golf.cli.logs",
    "stats": "golf.cli.stats",
    "submit": "golf.cli.submit",
    "verify": "golf.cli.verify",
    "rules": "golf.cli.verify",
    "ci": "golf.cli.ci",
    "leaderboard": "golf.cli.leaderboard",
    "legality": "golf.cli.legality",
    "new": "golf.cli.train",
    "train": "golf.cli.train",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, when `argv` starts with a command, of that command's module only."""
    parser = argparse.ArgumentParser(
        prog="golf",
        description="Toolkit and verifier for the Parameter Golf challenge.",
        epilog="Run `golf <command> --help` for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"golf {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")
    first = argv[0] if argv else None
    for name in [COMMANDS[first]] if first in COMMANDS else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    accept_negative_numbers(parser)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line. A command that sets `trailing` (golf train's KEY=VALUE settings) also gets
    the words argparse left over when they come after its options; any other leftover is a usage error."""
    args, extra = parser.parse_known_args(argv)
    trailing = getattr(args, "trailing", None)
    if extra and trailing is not None:
        trailing(args, extra)
    elif extra:
        parser.parse_args(argv)  # prints argparse's own "unrecognized arguments" message and exits 2
    return args


def main(argv: list[str] | None = None) -> int:
    _tolerant_output()
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    try:
        args = _parse(parser, argv)
    except SystemExit as exit_:  # --help (0) or a usage error argparse has already printed (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    handler = getattr(args, "handler", None)
    if handler is None:
        # A group given without its subcommand (`golf data`) prints that group's help.
        (getattr(args, "group_parser", None) or parser).print_help()
        return 2
    _use_cache(args)
    try:
        return int(handler(args) or 0)
    except GolfError as error:
        print(f"golf: error: {error}", file=sys.stderr)
        return error.exit_code
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        # torch is the `train` extra: verify, submit, ci and the leaderboard never need it.
        print("golf: error: this command runs the model and needs torch, which is not installed: "
              "pip install 'golf[train]'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("golf: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:  # a file that vanished or cannot be read or written while a command ran
        print(f"golf: error: {_os_error(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # the contract: never a traceback; say where, exit 2
        print(f"golf: internal error: {_where(error)}", file=sys.stderr)
        return 2


# The folders a command judges: the cache folder is never put inside one of them.
_JUDGED = ("paths", "record_dir", "records", "records_root", "sota_record", "pool_runs")


def _use_cache(args: argparse.Namespace) -> None:
    """Results derived from file bytes are cached in .golf_cache/ unless --no-cache; `golf ci` judges a pull
    request that could bring its own cache folder, so it keeps results in memory only."""
    from golf import cache

    avoid = []
    for name in _JUDGED:
        value = getattr(args, name, None)
        avoid += value if isinstance(value, list) else [value] if value else []
    cache.configure(enabled=not getattr(args, "no_cache", False) and args.command != "ci", avoid=avoid)


def _tolerant_output() -> None:
    """File names that are not UTF-8 (kept by Python as surrogates) print as escapes rather than
    crashing a strict UTF-8 or ASCII terminal."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _os_error(error: OSError) -> str:
    name = getattr(error, "filename", None)
    reason = error.strerror or str(error)
    return f"{name}: {reason}" if name else reason


def _where(error: BaseException) -> str:
    """`Type: message` and the innermost golf frame, so a report names what failed and where."""
    import traceback

    frames = [f for f in traceback.extract_tb(error.__traceback__) if "golf" in f.filename]
    place = f" (in {frames[-1].name}, {frames[-1].filename.rsplit('golf', 1)[-1].lstrip('/')}:{frames[-1].lineno})" \
        if frames else ""
    return f"{type(error).__name__}: {error}{place}"


if __name__ == "__main__":
    sys.exit(main())
