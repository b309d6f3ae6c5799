"""`golf verify --rerun --eval`: each rerun seed's artifact re-scored by golf's evaluator.

A rerun checks that the script trains what it claims; this checks its score: the seed's artifact is
scored by golf (golf.produce.eval, in a worker process) and set beside the exact lines of the rerun's log.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from golf.errors import GolfError


@dataclass
class Rescore:
    seed: int
    report: object | None     # compare.EvalReport
    results: list[dict]
    problem: str | None = None


def rescore_reruns(results, ruleset, *, data_path=None, tokenizer_path=None, device="cpu") -> list[Rescore]:
    from golf.produce.eval.compare import compare
    from golf.produce.eval.runner import EvalRequest, run_eval_worker

    done = []
    for result in results:
        if result.artifact_path is None:
            done.append(Rescore(result.seed, None, [], "the rerun wrote no artifact"))
            continue
        args = argparse.Namespace(
            record_dir=str(result.workdir), artifact=str(result.artifact_path),
            script=ruleset.code_bytes_policy.script, stride=None, standard=False, seq_len=None, batch_seqs=None,
            data_path=data_path, tokenizer_path=tokenizer_path, env=[], device=device, numerics="both",
            log=str(result.log_path) if result.log_path else None)
        try:
            request = EvalRequest.from_args(args)
            _, scores = run_eval_worker(request, progress=False)
        except GolfError as error:
            done.append(Rescore(result.seed, None, [], str(error).splitlines()[0]))
            continue
        done.append(Rescore(result.seed, compare(scores, request.log, ruleset.tolerances.eval_score_bpb), scores))
    return done


def rescore_lines(rescores: list[Rescore]) -> list[str]:
    lines = []
    for item in rescores:
        if item.problem:
            lines.append(f"eval seed {item.seed}: not re-scored: {item.problem}")
            continue
        for c in item.report.comparisons:
            lines.append(f"eval seed {item.seed}: {c.label} val_bpb {c.printed_bpb:.8f}, golf {c.golf_bpb:.8f} "
                         f"({c.difference:+.2e}): {c.explanation}")
        lines += [f"eval seed {item.seed}: note: {note}" for note in item.report.notes]
        lines += [f"eval seed {item.seed}: finding: {finding}" for finding in item.report.findings]
    return lines


def rescore_failed(rescores: list[Rescore]) -> bool:
    return any(item.problem or item.report.findings for item in rescores)
