"""`golf new` (a record folder from the reference trainer) and `golf train` (its seeds, on torchrun)."""

from __future__ import annotations

import argparse

from golf.cli import options


def register(subparsers) -> None:
    new = subparsers.add_parser(
        "new", help="start a record folder: records/<track>/<date>_<name>/ with the reference trainer",
        description="Creates records/<track>/<date>_<NAME>/ holding a copy of golf's reference trainer "
                    "(train_gpt.py), a README template and a .gitignore keeping run outputs and backups out of git. "
                    "Refuses to touch a folder that exists.")
    new.add_argument("track", metavar="TRACK", help="track name or alias, e.g. 10min_16mb, smoke")
    new.add_argument("name", metavar="NAME", help="the record's name, e.g. LongerWarmdown")
    new.add_argument("--date", help="date in the folder name, YYYY-MM-DD (default: today, UTC)")
    new.add_argument("--records", default="records", metavar="DIR", help="the records folder (default: ./records)")
    options.add_ruleset(new)
    options.add_format(new, "new")
    new.set_defaults(handler=run_new)

    train = subparsers.add_parser(
        "train", help="run a record's seeds with torchrun, file the logs, record the command",
        description="Runs RECORD_DIR's train_gpt.py once per seed with `torchrun --standalone "
                    "--nproc_per_node=N` in a fresh copy of the folder (under ./.golf-train/), with SEED and "
                    "RUN_ID set per seed and the KEY=VALUE settings given, and files each run's log as "
                    "train_seed<SEED>.log. The command and settings go into submission.json's run block, so "
                    "`golf submit` needs no --env and `golf verify --rerun` runs the same thing. Ctrl-C kills the "
                    "seed's processes; running the same command again resumes after the seeds already filed.")
    train.add_argument("record_dir", metavar="RECORD_DIR", help="the record folder (see `golf new`)")
    train.add_argument("settings", nargs="*", type=options.env_item, metavar="KEY=VALUE",
                       help="environment settings of the run, e.g. ITERATIONS=200 NUM_LAYERS=3 (on top of the "
                            "track's preset, if the ruleset gives it one: the smoke track's is the smoke data at "
                            "the smoke shape)")
    train.add_argument("--seeds", nargs="+", type=_seed_or_setting, default=[1337, 42, 2025], metavar="SEED",
                       help="one run per seed (default: 1337 42 2025)")
    train.add_argument("--nproc", type=int, metavar="N",
                       help="processes per node (default: the track's, from the ruleset)")
    train.add_argument("--timeout-per-seed", type=options.positive_float, metavar="S",
                       help="kill a seed's whole process group after S seconds")
    train.add_argument("--workdir", metavar="W", help="where the per-seed copies go (default: ./.golf-train/<folder>)")
    options.add_ruleset(train)
    options.add_format(train, "train")
    train.set_defaults(handler=run_train, trailing=_trailing_settings, command_parser=train)


def _seed_or_setting(word: str):
    """A seed, or a KEY=VALUE setting written right after the seeds (`--seeds 1 2 ITERATIONS=60`)."""
    try:
        return int(word)
    except ValueError:
        pass
    if "=" in word:
        return options.env_item(word)
    raise argparse.ArgumentTypeError(f"a seed is a whole number, not {word!r}")


def _trailing_settings(args: argparse.Namespace, words: list[str]) -> None:
    """KEY=VALUE settings written after the options (`--nproc 2 ITERATIONS=60`) join those before them."""
    for word in words:
        try:
            args.settings.append(options.env_item(word))
        except argparse.ArgumentTypeError as error:
            args.command_parser.error(f"{word!r}: {error}")


def run_new(args: argparse.Namespace) -> int:

    from golf.produce.scaffold import new_record
    from golf.render.formats import show

    ruleset = options.judging_from(args).default_ruleset
    folder = new_record(args.track, args.name, records=args.records, date=args.date, ruleset=ruleset)
    track = ruleset.find_track(args.track)
    show("new", args.format, {"record": folder.as_posix(), "track": track.name, "processes": track.processes,
                              "preset": dict(track.preset)})
    return 0


def run_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from golf.produce.train import train_record
    from golf.render.formats import show
    from golf.read.records import load_record

    args.settings += [item for item in args.seeds if isinstance(item, tuple)]
    args.seeds = [item for item in args.seeds if not isinstance(item, tuple)]
    ruleset = options.judging_from(args).default_ruleset
    nproc = args.nproc if args.nproc is not None else _track_processes(load_record, args.record_dir, ruleset)
    # The track's preset (e.g. the smoke data at the smoke shape) under the settings given.
    preset = _track_preset(args.record_dir, ruleset)
    env = {**preset, **dict(args.settings)}
    if preset:
        show("preset", args.format, preset, given=[key for key, _ in args.settings])
    results = train_record(Path(args.record_dir), seeds=args.seeds, nproc=nproc, env=env,
                           script=ruleset.code_bytes_policy.script, timeout_per_seed=args.timeout_per_seed,
                           workdir=args.workdir, ruleset=ruleset)
    ok = len(results) == len(args.seeds) and all(r.ok for r in results)
    show("train", args.format, {"ok": ok, "record": str(args.record_dir), "nproc": nproc, "seeds": [
        {"seed": r.seed, "ok": r.ok, "log": str(r.log) if r.log else None, "elapsed_s": round(r.elapsed_s, 3),
         "resumed": r.resumed, "error": r.why or None} for r in results]})
    return 0 if ok else 1


def _track_preset(record_dir, ruleset) -> dict[str, str]:
    """The preset settings of the track the folder sits in (records/<track>/<folder>), if it has any."""
    from pathlib import Path

    track = ruleset.find_track(Path(record_dir).resolve().parent.name)
    return dict(track.preset) if track is not None else {}


def _track_processes(load_record, record_dir, ruleset) -> int:
    """The track's process count, for the track the folder sits in (records/<track>/<folder>); else 8."""
    from golf.errors import GolfError

    try:
        record = load_record(record_dir)
    except (GolfError, OSError):
        return ruleset.track().processes
    track = ruleset.find_track(record.track_dir) if record.track_dir else None
    return (track or ruleset.track()).processes
