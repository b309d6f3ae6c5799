"""Options shared by the commands, each defined once (in the manner of pip's cmdoptions).

A command calls `add_format(parser)`, `add_ruleset(parser)`, ... and reads the parsed values
back through the helpers here, so every command spells, documents and checks an option
the same way.
"""

from __future__ import annotations

import argparse

from golf.cli.types import finite_float, positive_float  # noqa: F401  (the value types live in golf/cli/types.py)

FORMATS = ("text", "json", "markdown", "github")


# ---- value types --------------------------------------------------------------

def env_item(text: str) -> tuple[str, str]:
    """KEY=VALUE with KEY a shell variable name; the value may be empty but holds no NUL."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not (key[0].isalpha() or key[0] == "_") or not key.replace("_", "").isalnum() \
            or not key.isascii():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE with KEY a variable name, not {text!r}")
    if "\0" in value:
        raise argparse.ArgumentTypeError(f"the value of {key} holds a NUL character")
    return key, value


# ---- options --------------------------------------------------------------------

def add_format(parser: argparse.ArgumentParser, choices: str | tuple[str, ...] = FORMATS, default: str = "text") -> None:
    """`--format NAME` and `--json`, its short form. `choices`: the kind of output (its formats are those
    golf.render.formats registers for it), or the names themselves."""
    if isinstance(choices, str):
        from golf.render.formats import formats

        choices = formats(choices)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--format", choices=choices, default=default,
                       help=f"output format: {', '.join(choices)} (default: {default})")
    group.add_argument("--json", dest="format", action="store_const", const="json", help="short for --format json")


def add_ruleset(parser: argparse.ArgumentParser) -> None:
    from golf.rules import list_rulesets

    parser.add_argument("--ruleset", metavar="NAME",
                        help=f"ruleset name ({', '.join(list_rulesets())}) or TOML file (default: the config file's, "
                             "else the ruleset in force on each record's date)")


def add_env(parser: argparse.ArgumentParser, help_text: str = "environment variable of the run (repeatable)") -> None:
    parser.add_argument("--env", action="append", default=[], type=env_item, metavar="KEY=VALUE", help=help_text)


def env_dict(args: argparse.Namespace) -> dict[str, str]:
    """The --env pairs as a dict (the last value of a repeated key wins)."""
    return dict(getattr(args, "env", None) or [])


def add_sota(parser: argparse.ArgumentParser) -> None:
    """`--sota X` or `--sota-record DIR`: what a record track's significance test compares against."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sota", type=positive_float, metavar="X", help="the SOTA val_bpb to test significance against")
    group.add_argument("--sota-record", metavar="DIR",
                       help="the record folder whose runs are the SOTA (default, by the ruleset: the previous "
                            "frontier row, or the best earlier record of the same track in the records tree)")


def add_records_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--records-root", metavar="DIR",
                        help="records tree searched for earlier records (default: the record's grandparent)")


def add_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write .golf_cache/ (what golf derived from a script's bytes: packed "
                             "size, compile check, legality reading)")


def add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--select", metavar="RULES", action="append",
                        help="run only these rules: comma-separated codes, names or code prefixes (e.g. G3)")
    parser.add_argument("--ignore", metavar="RULES", action="append",
                        help="skip these rules: comma-separated codes, names or code prefixes")


def add_pool_runs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pool-runs", metavar="DIR", action="append", default=[],
                        help="a folder of reproduction logs of the record's script (repeatable): under a ruleset "
                             "that pools reproductions they join its significance test, never its claimed mean; "
                             "each is listed in the report (one record folder only)")


JUDGING_PARTS = ("selection", "records_root", "sota", "pool_runs")


def add_judging(parser: argparse.ArgumentParser, *parts: str) -> None:
    """The options that decide how records are judged: --ruleset always, and each of `parts` asked for
    (selection: --select/--ignore; records_root; sota: --sota/--sota-record; pool_runs). The project
    configuration fills what is not given (judging_from)."""
    unknown = set(parts) - set(JUDGING_PARTS)
    if unknown:
        raise ValueError(f"unknown judging options {sorted(unknown)}")
    add_ruleset(parser)
    adders = {"selection": add_selection, "records_root": add_records_root, "sota": add_sota,
              "pool_runs": add_pool_runs}
    for part in JUDGING_PARTS:
        if part in parts:
            adders[part](parser)


def judging_from(args: argparse.Namespace, config="find"):
    """The Judging of a command: its judging options merged with the project configuration (the nearest
    golf.toml or [tool.golf]; `config` may give another golf.read.config.Config, or None for none)."""
    from golf.judge.judging import judging

    if config == "find":
        from golf.read.config import load_config

        config = load_config()
    return judging(ruleset=getattr(args, "ruleset", None), select=getattr(args, "select", None),
                   ignore=getattr(args, "ignore", None), records_root=getattr(args, "records_root", None),
                   pool_runs=getattr(args, "pool_runs", None) or (), sota=getattr(args, "sota", None),
                   sota_record=getattr(args, "sota_record", None), config=config)


def add_data_paths(parser: argparse.ArgumentParser) -> None:
    """Where the dataset and tokenizer are, passed to a record's script as DATA_PATH and TOKENIZER_PATH."""
    parser.add_argument("--data-path", metavar="DIR", help="dataset folder given to the script as DATA_PATH")
    parser.add_argument("--tokenizer-path", metavar="FILE", help="tokenizer given to the script as TOKENIZER_PATH")


def add_launcher(parser) -> None:
    """Where a rerun's seeds run: this machine (the default), or SLURM jobs with their options."""
    parser.add_argument("--launcher", choices=("local", "slurm"), default=None,
                        help="where the seeds run: local (torchrun on this machine, one seed after the other; the "
                             "default) or slurm (one sbatch job per record and seed; the work directory must be "
                             "on a filesystem the nodes share)")
    parser.add_argument("--partition", metavar="P", help="SLURM partition of the jobs (--launcher slurm)")
    parser.add_argument("--account", metavar="A", help="SLURM account charged for the jobs (--launcher slurm)")
    parser.add_argument("--gpus-per-node", type=int, metavar="N", help="GPUs each job asks for (--launcher slurm)")
    parser.add_argument("--time", metavar="LIMIT", help="each job's SLURM time limit, e.g. 00:30:00 (--launcher slurm)")
    parser.add_argument("--sbatch-arg", action="append", default=[], metavar="OPTION",
                        help="one more sbatch option for every job, e.g. --sbatch-arg=--exclusive (repeatable)")


SLURM_ONLY = ("--partition", "--account", "--gpus-per-node", "--time", "--sbatch-arg")


def slurm_options(args: argparse.Namespace):
    """The SLURM options given, as golf.produce.rerun.slurm.SlurmOptions."""
    from golf.produce.rerun.slurm import SlurmOptions

    return SlurmOptions(partition=args.partition, account=args.account, gpus_per_node=args.gpus_per_node,
                        time=args.time, sbatch_args=list(args.sbatch_arg or []))


__all__ = ["FORMATS", "SLURM_ONLY", "add_cache", "add_data_paths", "add_env", "add_format", "add_judging",
           "add_launcher", "add_pool_runs", "add_records_root", "add_ruleset", "add_selection", "add_sota", "env_dict",
           "env_item", "finite_float", "judging_from", "positive_float", "slurm_options"]
