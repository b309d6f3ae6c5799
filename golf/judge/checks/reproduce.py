"""G512: the record's `run` block must reproduce what its logs ran (checked statically, from the printed configuration)."""

from __future__ import annotations

from golf.judge.findings import Hit, rule
from golf.read.runenv import command_is_multinode, command_nproc, disagreements, script_defaults


def run_block(ctx) -> dict | None:
    """submission.json's `run` block, when it has one."""
    submission = ctx.submission
    raw = getattr(submission, "raw", None)
    run = raw.get("run") if isinstance(raw, dict) else None
    return run if isinstance(run, dict) else None


@rule("G512", "run-env-mismatch", "error",
      "A rerun launches submission.json's run command with its run.env; settings that differ from what the "
      "logs printed reproduce a different run.")
def run_env_mismatch(ctx):
    """The logs print the configuration each run used (`iterations:120 train_seq_len:128 ...`). For every
    printed setting that is a copy of one environment variable, golf compares it with what the `run` block
    would set: the value in `run.env`, else the script's default (read from its text). It also compares the
    command's `--nproc_per_node` with the logged `world_size`. Fix `run.env` (or let `golf submit` fill it
    from the logs when it is empty; `golf train` records it exactly)."""
    run = run_block(ctx)
    if run is None:
        return
    env = run.get("env") if isinstance(run.get("env"), dict) else {}
    env = {str(k): str(v) for k, v in env.items()}
    defaults = script_defaults(ctx.script_text)
    nproc = None if command_is_multinode(run.get("command")) else command_nproc(run.get("command"))
    where = getattr(ctx.submission, "path", "submission.json")
    by_diff: dict[str, list[str]] = {}
    for r in ctx.logged_counted:
        config = r.run.config if r.run is not None else {}
        diffs = disagreements(config, env, defaults)
        if diffs:
            said = ", ".join(f"{name}={logged} (run.env {'sets' if name in env else 'leaves the default'} "
                             f"{expected})" for name, expected, logged in diffs)
            by_diff.setdefault(said, []).append(r.log)
    for said, logs in by_diff.items():
        yield Hit(f"{', '.join(logs)} ran {said}; a rerun of {where}'s run block would not", where)
    by_world: dict[str, list[str]] = {}
    for r in ctx.logged_counted:
        world = (r.run.config if r.run is not None else {}).get("world_size")
        if nproc is not None and world is not None and world.isdigit() and int(world) != nproc:
            by_world.setdefault(world, []).append(r.log)
    for world, logs in by_world.items():
        yield Hit(f"{', '.join(logs)} ran world_size {world} but the run command launches "
                  f"--nproc_per_node={nproc}", where)
