"""`golf eval` (score a record's artifact with the trusted evaluator) and `golf size` (bytes against the cap)."""

from __future__ import annotations

import argparse

from golf.cli import options
from golf.cli.types import positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval", help="score a record's artifact with golf's trusted evaluator (runs the record's code)",
        description=(
            "Load RECORD_DIR's artifact through the record's own script in a separate process and compute "
            "val_loss and val_bpb with golf's evaluator. The script's load_model_for_eval and "
            "model.forward_logits (golf's evaluator interface) are used when present; otherwise golf's "
            "built-in loaders build the script's GPT from its Hyperparameters and dequantize the artifact "
            "with the script's own function (zlib, lzma, zstd or brotli), in the record's numerics (cast as "
            "its main() casts the model) and in float32. Shapes come from submission.json run.env, else the "
            "log's hyperparameter lines, else the script's defaults; --env overrides them. golf's scores are "
            "set beside the record's printed exact lines (a difference beyond the ruleset's tolerance that is "
            "not a known window convention is a finding: exit status 1). This executes code from the record "
            "folder, never part of static verification; a script that does work at import time is refused "
            "without being run."))
    parser.add_argument("record_dir", metavar="RECORD_DIR", help="the record folder (holds the script and the artifact)")
    parser.add_argument("--artifact", metavar="PATH",
                        help="the artifact to score (default: RECORD_DIR/final_model.int8.ptz)")
    parser.add_argument("--script", metavar="NAME", default="train_gpt.py",
                        help="the record's script, relative to RECORD_DIR (default: train_gpt.py)")
    parser.add_argument("--stride", type=positive_int, metavar="S",
                        help="the sliding-window score with this stride, alone unless --standard is given "
                             "(default: the script's EVAL_STRIDE, with the standard score too)")
    parser.add_argument("--standard", action="store_true", help="with --stride, also the standard score")
    parser.add_argument("--seq-len", type=positive_int, metavar="L",
                        help="evaluation sequence length (default: the script's EVAL_SEQ_LEN, else TRAIN_SEQ_LEN)")
    parser.add_argument("--batch-seqs", type=positive_int, metavar="B",
                        help="sequences or windows per forward pass (default: 65,536 tokens' worth on CPU, "
                             "1,048,576 on CUDA; scores do not depend on it)")
    parser.add_argument("--numerics", choices=("both", "record", "float32"), default="both",
                        help="built-in loaders: the record's numerics, float32 (golf's reference), or both "
                             "(default)")
    parser.add_argument("--log", metavar="NAME",
                        help="the record's log to compare with (default: the one whose model bytes are the "
                             "artifact's size, else the only log)")
    parser.add_argument("--data-path", metavar="DIR",
                        help="folder with fineweb_val_*.bin (default: DATA_PATH, else the smoke dataset)")
    parser.add_argument("--tokenizer-path", metavar="FILE",
                        help="SentencePiece .model of that data (default: TOKENIZER_PATH, else the smoke tokenizer)")
    options.add_env(parser, "an environment knob for the record's script (model shape, ...); repeatable; "
                            "overrides the log's hyperparameter lines and the record's submission.json run.env")
    parser.add_argument("--device", default="cpu",
                        help="torch device (default: cpu, where a script's flash_attn_interface import gets a "
                             "CPU stand-in on scaled_dot_product_attention; cuda uses the real kernels)")
    options.add_ruleset(parser)
    options.add_format(parser, "eval")
    parser.set_defaults(handler=run_eval)

    size = subparsers.add_parser(
        "size", help="code bytes + model bytes of a record against the byte cap",
        description=(
            "Print the code bytes (the shipped script, under the ruleset's code-bytes policy), the model bytes "
            "(the artifact on disk, when present) and their total against the byte cap of the record's track "
            "(from the ruleset). Exit status 1 when the total is over the cap. Never imports torch."))
    size.add_argument("record_dir", metavar="RECORD_DIR", help="the record folder")
    size.add_argument("--artifact", metavar="PATH",
                      help="the artifact to count (default: RECORD_DIR/final_model.int8.ptz when present)")
    options.add_ruleset(size)
    options.add_format(size, "size")
    size.set_defaults(handler=run_size)


def run_eval(args: argparse.Namespace) -> int:
    from golf.produce.eval.compare import compare
    from golf.produce.eval.runner import EvalRequest, eval_payload, run_eval_worker
    from golf.render.formats import show
    ruleset = options.judging_from(args).default_ruleset
    request = EvalRequest.from_args(args)
    loaded, results = run_eval_worker(request)
    report = compare(results, request.log, ruleset.tolerances.eval_score_bpb)
    show("eval", args.format, eval_payload(request, loaded, results, report), request=request, loaded=loaded,
         results=results, report=report)
    return 1 if report.findings else 0


def run_size(args: argparse.Namespace) -> int:
    from golf.render.formats import show

    from golf.judge.facts import measure_sizes
    from golf.produce.artifact import ARTIFACT_NAME
    report = measure_sizes(args.record_dir, options.judging_from(args).default_ruleset, artifact=args.artifact,
                           artifact_name=ARTIFACT_NAME)
    show("size", args.format, report)
    return 1 if report.fits is False else 0


