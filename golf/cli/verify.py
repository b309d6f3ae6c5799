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
    options.add_format(parser, "report")
    options.add_judging(parser, "selection", "records_root", "sota", "pool_runs")
    options.add_cache(parser)
    rerun = parser.add_argument_group("rerun (runs the record's own command with torchrun)")
    rerun.add_argument("--rerun", action="store_true",
                       help="rerun the record once per seed in fresh copies, then verify the new logs and artifacts "
                            "(a folder of records is one batch, ending with a summary table)")
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
    rerun.add_argument("--dry-run", action="store_true",
                       help="print every command of the rerun (with --launcher slurm, every sbatch script) and stop")
    options.add_launcher(rerun)
    rerun.add_argument("--legality", action="store_true",
                       help="also run golf legality (the prefix-invariance test) on the record and show it beside "
                            "the static reading (G404/G405); the ruleset's [legality] precedence says which decides")
    for flag, text in TORCHRUN_OPTIONS:
        rerun.add_argument(flag, metavar="VALUE", help=f"torchrun {flag}: {text}")
    parser.set_defaults(handler=run_verify)

    rules = subparsers.add_parser("rules", help="list the checks golf verify runs, or explain one",
                                  description="List every registered check (code, name, severity, rationale), or "
                                              "explain the rules named: what each checks, why, and how to fix it.")
    rules.add_argument("names", nargs="*", metavar="RULE",
                       help="rule codes, names or code prefixes to explain (e.g. G703, not-significant, G7)")
    options.add_format(rules, "rules")
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
    slurm_only = {flag: getattr(args, flag[2:].replace("-", "_")) for flag in options.SLURM_ONLY}
    slurm_only = {flag: None if value == [] else value for flag, value in slurm_only.items()}
    rerun_only.update({"--launcher": args.launcher, **slurm_only})
    given = [flag for flag, value in rerun_only.items() if value is not None]
    if args.eval and not args.rerun:
        given.append("--eval")
    if getattr(args, "legality", False) and not args.rerun:
        given.append("--legality")
    if given and not args.rerun:
        raise GolfError(f"{', '.join(given)} only apply with --rerun")
    slurm_given = [flag for flag, value in slurm_only.items() if value is not None]
    if slurm_given and args.launcher != "slurm":
        raise GolfError(f"{', '.join(slurm_given)} only apply with --launcher slurm")


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
    from golf.judge.verify import bad_inputs, exit_status, verify_paths
    from golf.render.formats import draws_pictures, show

    _check_options(args)
    judging = options.judging_from(args)
    curves = draws_pictures(args.format)
    rescored = batch = legality = None
    if args.rerun and len(_rerun_records(args.paths)) > 1:
        batch = _rerun_batch(args, judging.verifier(curves=curves))
        if batch is None:
            return 0
        report = batch
    elif args.rerun:
        verifier = judging.verifier(curves=curves)
        record_dir = _single_record(args.paths[0])
        ruleset = verifier.ruleset_of(record_dir)   # the one that judges this record, by its date or given
        results = _rerun(args, record_dir, ruleset)
        if args.dry_run:
            return 0
        report = verifier.new_report([verifier.verify(record_dir, shown=args.paths[0], reruns=results)])
        rescored = _rescore(args, results, ruleset) if args.eval else None
        legality = _legality(args, record_dir, ruleset) if args.legality else None
        if args.write_submission and not _rescore_failed(rescored):
            _write_submission(record_dir, results, verifier, report)
    else:
        report = verify_paths(args.paths, judging=judging, curves=curves)
    show("report", args.format, report)
    if batch is not None:
        show("rerun-summary", args.format, batch)
    elif rescored is not None:
        from golf.produce.eval.rescore import rescore_failed

        show("rescore", args.format, rescored)
        if rescore_failed(rescored):
            return 1
    for message in bad_inputs(report):  # also on stderr, whatever the format: a path given was not a record
        print(f"golf: error: {message}", file=sys.stderr)
    if legality is not None:
        return _legality_exit(args, report, legality, ruleset)
    return exit_status(report)


def _legality(args, record_dir, ruleset):
    from golf.cli.legality import legality_for

    return legality_for(record_dir, ruleset, script=ruleset.code_bytes_policy.script,
                        data_path=args.data_path, tokenizer_path=args.tokenizer_path)


def _legality_exit(args, report, result, ruleset) -> int:
    """Show the static and dynamic readings together; the exit status follows the one that decides."""
    from golf.produce.legality import STATIC_CODES, deciding
    from golf.render.formats import show
    from golf.render.legality import combined

    findings = [f for record in report.records for f in record.findings]
    static = [f for f in findings if f.code in STATIC_CODES]
    decided = deciding(result, ruleset.legality.precedence)
    show("legality-combined", args.format, combined(result, static, decided))
    if decided == "static":
        return 0 if report.passed else 1
    others_fail = any(f.severity == "error" and f.code not in STATIC_CODES for f in findings)
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


def _rerun_options(args: argparse.Namespace, ruleset) -> dict:
    from rich.console import Console

    launcher = args.launcher or "local"
    return dict(seeds=args.seeds, nproc=args.nproc, data_path=args.data_path, tokenizer_path=args.tokenizer_path,
                timeout_per_seed=args.timeout_per_seed, workdir=args.workdir, dry_run=args.dry_run,
                torchrun_args=tuple(_torchrun_args(args)), console=Console(stderr=True), ruleset=ruleset,
                **({"launcher": launcher, "slurm": options.slurm_options(args)} if launcher != "local" else {}))


def _rerun(args: argparse.Namespace, record_dir, ruleset):
    from golf.produce.rerun import rerun_record

    return rerun_record(record_dir, **_rerun_options(args, ruleset))


def _rerun_records(paths) -> list:
    """Every record folder under the paths given to --rerun (a folder of records is a batch)."""
    from pathlib import Path

    from golf.errors import GolfError
    from golf.read.records import find_record_dirs

    dirs = []
    for path in paths:
        if not Path(path).is_dir():
            raise GolfError(f"{path}: not a record folder")
        for found in find_record_dirs(path):
            if found.resolve() in {d.resolve() for d in dirs}:
                raise GolfError(f"{found}: given twice to --rerun (each record folder is rerun once)")
            dirs.append(found)
    if not dirs:
        raise GolfError(f"{', '.join(paths)}: no record folder to rerun")
    return dirs


def _rerun_batch(args: argparse.Namespace, verifier):
    """Several records rerun as one batch (with --launcher slurm, all their jobs submitted at once), then each
    verified against its own rerun; None after --dry-run."""
    from golf.errors import GolfError
    from golf.produce.rerun import rerun_records

    for flag, given in (("--write-submission", args.write_submission), ("--eval", args.eval),
                        ("--legality", args.legality), ("--pool-runs", args.pool_runs)):
        if given:
            raise GolfError(f"{flag} takes one record folder, not a batch of reruns")
    dirs = _rerun_records(args.paths)
    results = rerun_records(dirs, **_rerun_options(args, verifier.ruleset))
    if args.dry_run:
        return None
    return verifier.new_report([verifier.verify(d, shown=str(d), reruns=results[d.resolve()]) for d in dirs])


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
    # The verifier that judged the rerun writes it: the same ruleset (by date or given), selection and waivers.
    built = build_submission(record_dir, SubmitOptions(), verifier=verifier)
    written = write_submission(built)
    note = f" (previous kept as {written.backup.name})" if written.backup else ""
    console.print(f"wrote {written.path}{note}" if written.written else f"{written.path} unchanged", highlight=False)


def run_rules(args: argparse.Namespace) -> int:
    from golf.judge.findings import all_rules, resolve
    from golf.render.formats import show

    rules = all_rules()
    if args.names:
        wanted = resolve(args.names)
        rules = [r for r in rules if r.code in wanted]
    show("rules", args.format, rules, explain=bool(args.names))
    return 0
