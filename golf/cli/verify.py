"""`golf verify PATH...` (static audit, optionally a rerun) and `golf rules` (the registered checks)."""

from __future__ import annotations

import argparse
import sys

from golf.cli import options
from golf.cli.types import positive_float, positive_int, whole_number

# torchrun's multi-node options, passed through unchanged to the launcher on --rerun.
TORCHRUN_OPTIONS = (
    ("--nnodes", "number of nodes, or MIN:MAX for elastic runs"),
    ("--node-rank", "rank of this node in a multi-node run"),
    ("--rdzv-backend", "rendezvous backend (e.g. c10d)"),
    ("--rdzv-endpoint", "rendezvous endpoint HOST:PORT"),
    ("--rdzv-id", "rendezvous job id shared by all nodes"),
    ("--master-addr", "address of the rank-0 node (static rendezvous)"),
    ("--master-port", "port of the rank-0 node (static rendezvous)"),
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify", help="verify record folders: static audit, or a rerun with --rerun",
        description="Judge record folders against the ruleset without trusting their numbers: files, the score "
                    "taken from the logs, claims against the logs, size from real bytes, embedded source against "
                    "the shipped script, seeds, time budgets and significance against SOTA. Never imports or runs "
                    "anything from a record folder unless --rerun is given. Exit status: 0 every record passes, "
                    "1 a record fails, 2 bad input.",
        epilog="Run `golf rules` for the list of checks, their codes and severities.")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a record folder, or a folder of record folders (e.g. records/)")
    options.add_format(parser, options.FORMATS + ("html",))
    options.add_ruleset(parser)
    options.add_sota(parser)
    options.add_records_root(parser)
    parser.add_argument("--pool-runs", metavar="DIR", action="append", default=[],
                        help="a folder of reproduction logs of the record's script (repeatable): under a ruleset "
                             "that pools reproductions they join its significance test, never its claimed mean; "
                             "each is listed in the report (one record folder only)")
    parser.add_argument("--select", metavar="RULES", action="append",
                        help="run only these rules: comma-separated codes, names or code prefixes (e.g. G3)")
    parser.add_argument("--ignore", metavar="RULES", action="append",
                        help="skip these rules: comma-separated codes, names or code prefixes")
    rerun = parser.add_argument_group("rerun (runs the record's own command with torchrun)")
    rerun.add_argument("--rerun", action="store_true",
                       help="rerun the record once per seed in fresh copies, then verify the new logs and artifacts")
    rerun.add_argument("--nproc", type=positive_int, help="processes per node (torchrun --nproc_per_node; default: the "
                                                          "record command's, else the track's from the ruleset)")
    rerun.add_argument("--seeds", nargs="+", type=whole_number, metavar="SEED",
                       help="seeds to rerun (default: the record's own seeds)")
    options.add_data_paths(rerun)
    rerun.add_argument("--timeout-per-seed", type=positive_float, metavar="S",
                       help="kill a seed's whole process group after S seconds")
    rerun.add_argument("--workdir", metavar="W", help="where the per-seed copies and logs go")
    rerun.add_argument("--write-submission", action="store_true",
                       help="when the rerun passes, keep its logs in the record folder as train_seed<SEED>.log and "
                            "write submission.json from them (files replaced are kept as .bak)")
    rerun.add_argument("--eval", action="store_true",
                       help="also re-score each rerun seed's artifact with golf eval and compare it with the rerun's "
                            "log (a difference beyond the ruleset's tolerance fails the verification)")
    rerun.add_argument("--legality", action="store_true",
                       help="also run golf legality (the prefix-invariance test) on the record and show it beside "
                            "the static reading G404; the ruleset's [legality] precedence says which decides")
    rerun.add_argument("--dry-run", action="store_true", help="print every command of the rerun and stop")
    for flag, text in TORCHRUN_OPTIONS:
        rerun.add_argument(flag, metavar="VALUE", help=f"torchrun {flag}: {text}")
    parser.set_defaults(handler=run_verify)

    rules = subparsers.add_parser("rules", help="list the checks golf verify runs, or explain one",
                                  description="List every registered check (code, name, severity, rationale), or "
                                              "explain the rules named: what each checks, why, and how to fix it.")
    rules.add_argument("names", nargs="*", metavar="RULE",
                       help="rule codes, names or code prefixes to explain (e.g. G703, not-significant, G7)")
    options.add_format(rules, ("text", "json", "markdown"))
    rules.set_defaults(handler=run_rules)


def _torchrun_args(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    for flag, _ in TORCHRUN_OPTIONS:
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None:
            out += [flag, str(value)]
    return out


def _check_options(args: argparse.Namespace) -> None:
    from golf.errors import GolfError

    rerun_only = {"--nproc": args.nproc, "--seeds": args.seeds, "--data-path": args.data_path, "--tokenizer-path": args.tokenizer_path,
                  "--timeout-per-seed": args.timeout_per_seed, "--workdir": args.workdir,
                  "--write-submission": args.write_submission or None, "--dry-run": args.dry_run or None}
    rerun_only.update({flag: getattr(args, flag[2:].replace("-", "_")) for flag, _ in TORCHRUN_OPTIONS})
    given = [flag for flag, value in rerun_only.items() if value is not None]
    if args.eval and not args.rerun:
        given.append("--eval")
    if getattr(args, "legality", False) and not args.rerun:
        given.append("--legality")
    if given and not args.rerun:
        raise GolfError(f"{', '.join(given)} only apply with --rerun")
    if args.rerun and len(args.paths) != 1:
        raise GolfError("--rerun takes exactly one record folder")


def run_verify(args: argparse.Namespace) -> int:
    from golf.errors import GolfError

    try:
        return _verify(args)
    except (GolfError, BrokenPipeError):
        raise
    except Exception as error:  # exit status 2 with a message, not a traceback
        from golf.judge.verify import where_of

        raise GolfError(f"internal error: {where_of(error)}") from error


def _verify(args: argparse.Namespace) -> int:

    from golf.render.report import render_github, render_json, render_markdown, render_terminal
    from golf.judge.verify import Verifier, verify_paths

    from golf.config import load_config

    _check_options(args)
    config = load_config()
    options = dict(ruleset=args.ruleset, sota=args.sota, sota_record=args.sota_record, select=args.select,
                   ignore=args.ignore, records_root=args.records_root, config=config, pool_runs=args.pool_runs,
                   curves=args.format in ("markdown", "html"))  # the formats that draw pictures
    if args.rerun:
        verifier = Verifier(**options)
        record_dir = _single_record(args.paths[0])
        results = _rerun(args, record_dir, verifier.ruleset)
        if args.dry_run:
            return 0
        report = verifier.new_report([verifier.verify(record_dir, shown=args.paths[0], reruns=results)])
        rescored = _rescore(args, results, verifier.ruleset) if args.eval else None
        legality = _legality(args, record_dir, verifier.ruleset) if args.legality else None
        if args.write_submission and not _rescore_failed(rescored):
            _write_submission(record_dir, results, verifier, report)
    else:
        report = verify_paths(args.paths, **options)
    if args.format == "json":
        print(render_json(report), end="")
    elif args.format == "markdown":
        print(render_markdown(report), end="")
    elif args.format == "github":
        print(render_github(report), end="")
    elif args.format == "html":
        from golf.render.html import render_html

        print(render_html(report), end="")
    else:
        from golf.render.terminal import make_console

        render_terminal(report, make_console())
    if args.rerun and rescored is not None:
        from golf.produce.eval.rescore import rescore_failed, rescore_lines

        # The report's own formats stay machine-readable: the eval lines go to stderr with them.
        stream = sys.stdout if args.format == "text" else sys.stderr
        for line in rescore_lines(rescored):
            print(line, file=stream)
        if rescore_failed(rescored):
            return 1
    if args.rerun and legality is not None:
        return _legality_exit(args, report, legality, verifier.ruleset)
    return 0 if report.passed else 1


def _legality(args, record_dir, ruleset):
    from golf.cli.legality import legality_for

    return legality_for(record_dir, ruleset, script=ruleset.code_bytes_policy.script,
                        data_path=args.data_path, tokenizer_path=args.tokenizer_path)


def _legality_exit(args, report, result, ruleset) -> int:
    """Show the static and dynamic readings together; the exit status follows the one that decides."""
    from golf.produce.legality.report import STATIC_CODE, combined

    findings = [f for record in report.records for f in record.findings]
    static = [f for f in findings if f.code == STATIC_CODE]
    decided, lines = combined(result, static, ruleset.legality.precedence)
    stream = sys.stdout if args.format == "text" else sys.stderr
    for line in lines:
        print(line, file=stream)
    if decided == "static":
        return 0 if report.passed else 1
    others_fail = any(f.severity == "error" and f.code != STATIC_CODE for f in findings)
    return 1 if others_fail or decided == "leak" else 0


def _rescore_failed(rescored) -> bool:
    if not rescored:
        return False
    from golf.produce.eval.rescore import rescore_failed

    return rescore_failed(rescored)


def _rescore(args, results, ruleset):
    from golf.produce.eval.rescore import rescore_reruns

    return rescore_reruns(results, ruleset, data_path=args.data_path, tokenizer_path=args.tokenizer_path)


def _single_record(path: str):
    from pathlib import Path

    from golf.errors import GolfError
    from golf.read.records import find_record_dirs

    if not Path(path).is_dir():
        raise GolfError(f"{path}: not a record folder")
    dirs = find_record_dirs(path)
    if len(dirs) != 1:
        raise GolfError(f"{path}: --rerun needs one record folder, found {len(dirs)}")
    return dirs[0]


def _rerun(args: argparse.Namespace, record_dir, ruleset):
    from rich.console import Console

    from golf.produce.rerun import rerun_record

    return rerun_record(record_dir, seeds=args.seeds, nproc=args.nproc, data_path=args.data_path,
                        tokenizer_path=args.tokenizer_path, timeout_per_seed=args.timeout_per_seed,
                        workdir=args.workdir, dry_run=args.dry_run, torchrun_args=tuple(_torchrun_args(args)),
                        console=Console(stderr=True), ruleset=ruleset)


def _write_submission(record_dir, results, verifier, report) -> None:
    """Keep the rerun logs in the record folder as train_seed<SEED>.log and write submission.json from them
    with golf.produce.submit (identity fields kept; any file replaced is kept as .bak)."""
    from pathlib import Path

    from rich.console import Console

    from golf.errors import GolfError
    from golf.io import atomic_write_bytes
    from golf.produce.submit import SubmitOptions, build_submission, write_submission

    console = Console(stderr=True)
    done = [r for r in results if r.log_path is not None and Path(r.log_path).is_file()]
    if not done:
        raise GolfError(f"{record_dir}: no rerun log to write submission.json from")
    if not report.passed:
        raise GolfError(f"{record_dir}: the rerun does not pass verification; submission.json not written")
    for result in done:
        target = Path(record_dir) / f"train_seed{result.seed}.log"
        backup = atomic_write_bytes(target, Path(result.log_path).read_bytes())
        note = f" (previous kept as {backup.name})" if backup else ""
        console.print(f"wrote {target}{note}", highlight=False)
    built = build_submission(record_dir, SubmitOptions(), ruleset=verifier.ruleset)
    written = write_submission(built)
    note = f" (previous kept as {written.backup.name})" if written.backup else ""
    console.print(f"wrote {written.path}{note}" if written.written else f"{written.path} unchanged", highlight=False)


def run_rules(args: argparse.Namespace) -> int:
    from golf.io import dumps_json

    from golf.judge.findings import all_rules, resolve

    rules = all_rules()
    if args.names:
        wanted = resolve(args.names)
        rules = [r for r in rules if r.code in wanted]
    if args.format == "json":
        print(dumps_json({"rules": [dict(r.to_dict(), explanation=r.explanation) for r in rules]}, indent=2))
    elif args.names:
        for r in rules:
            title = f"{r.code} {r.name} ({r.severity}{', --rerun only' if r.phase == 'rerun' else ''})"
            print(f"## {title}" if args.format == "markdown" else title)
            print()
            print(r.explanation)
            print()
    elif args.format == "markdown":
        print("| Code | Name | Severity | Rationale |\n|---|---|---|---|")
        for r in rules:
            print(f"| {r.code} | {r.name} | {r.severity} | {r.rationale} |")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None)
        for column in ("code", "name", "severity", "rationale"):
            table.add_column(column, overflow="fold")
        for r in rules:
            suffix = " (--rerun only)" if r.phase == "rerun" else ""
            table.add_row(r.code, r.name, r.severity, r.rationale + suffix)
        Console().print(table)
    return 0
