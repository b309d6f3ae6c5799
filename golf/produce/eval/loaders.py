"""Built-in loaders: a record's model from its own script, without an evaluator interface (worker only).

The challenge's scripts share conventions: a `Hyperparameters` class read from the environment, an
`nn.Module` GPT class that `main()` builds from it, a dequantization function matching the artifact,
and `forward_logits` in some families (otherwise the logits are what the loss is computed from). This
module finds those, loads the artifact through the script's own dequantizer, and offers the model in
two numerics:
- "record": cast as the script's `main()` casts it (`.bfloat16()`, CastedLinear and low-dimensional
  parameters back to float32) and run under bf16 autocast when `main()` uses it, to compare with the
  record's printed line;
- "float32": the whole model in float32 without autocast, golf's canonical reference.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import importlib.util
import inspect
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from golf.errors import GolfError
from golf.produce.eval.script_check import ScriptInfo

MODULE_NAME = "golf_record_script"
SHAPE_KNOBS = ("vocab_size", "num_layers", "model_dim", "num_heads", "num_kv_heads", "mlp_mult", "tie_embeddings")
FLASH_STANDIN_NOTE = ("flash_attn_interface: CPU stand-in (golf's flash_attn_func and flash_attn_varlen_func on "
                      "torch scaled_dot_product_attention, same call signatures)")


# ---------------------------------------------------------------------------
# Importing the script
# ---------------------------------------------------------------------------

def _standin_flash_attn_func(q, k, v, softmax_scale=None, causal=False, *args, attn_mask=None, **kwargs):
    """FlashAttention 3's flash_attn_func on [B, T, H, D] tensors, computed with SDPA."""
    import torch.nn.functional as F

    q_, k_, v_ = (t.transpose(1, 2) for t in (q, k, v))
    out = F.scaled_dot_product_attention(q_, k_, v_, attn_mask=attn_mask, is_causal=bool(causal) and attn_mask is None,
                                         scale=softmax_scale, enable_gqa=k_.shape[1] != q_.shape[1])
    return out.transpose(1, 2)


def _standin_flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q=None, max_seqlen_k=None,
                                    softmax_scale=None, causal=False, *args, window_size=(-1, -1), **kwargs):
    """FlashAttention 3's flash_attn_varlen_func on packed [total, H, D] tensors: SDPA per sequence."""
    import torch

    outs = []
    for i in range(len(cu_seqlens_q) - 1):
        sq, eq = int(cu_seqlens_q[i]), int(cu_seqlens_q[i + 1])
        sk, ek = int(cu_seqlens_k[i]), int(cu_seqlens_k[i + 1])
        mask = None
        left, right = window_size if window_size is not None else (-1, -1)
        if left >= 0 or right >= 0:
            rows = torch.arange(eq - sq, device=q.device)[:, None] + (ek - sk) - (eq - sq)
            cols = torch.arange(ek - sk, device=q.device)[None, :]
            mask = torch.ones(eq - sq, ek - sk, dtype=torch.bool, device=q.device)
            if left >= 0:
                mask &= cols >= rows - left
            if right >= 0 or causal:
                mask &= cols <= rows + (0 if causal else right)
        out = _standin_flash_attn_func(q[sq:eq].unsqueeze(0), k[sk:ek].unsqueeze(0), v[sk:ek].unsqueeze(0),
                                       softmax_scale, causal and mask is None, attn_mask=mask)
        outs.append(out.squeeze(0))
    return torch.cat(outs, dim=0)


def install_flash_attn_standin() -> str:
    module = types.ModuleType("flash_attn_interface")
    module.flash_attn_func = _standin_flash_attn_func
    module.flash_attn_varlen_func = _standin_flash_attn_varlen_func
    module.__golf_standin__ = True
    sys.modules["flash_attn_interface"] = module
    return FLASH_STANDIN_NOTE


def import_script(info: ScriptInfo):
    """The checked (and, for a wrapper, unpacked) source imported as a module named other than __main__."""
    sys.path.insert(0, str(info.path.parent))
    spec = importlib.util.spec_from_loader(MODULE_NAME, loader=None, origin=str(info.path))
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(info.path)
    sys.modules[MODULE_NAME] = module
    code = compile(info.source, str(info.path), "exec")
    exec(code, module.__dict__)  # noqa: S102 - this is the import of a script that passed the import check
    return module


def hyperparameters(module):
    """The script's Hyperparameters (read from the environment at import); empty when it has none
    (a script with load_model_for_eval needs none)."""
    cls = getattr(module, "Hyperparameters", None)
    if cls is None:
        return types.SimpleNamespace()
    try:
        return cls()
    except TypeError:
        return cls


# ---------------------------------------------------------------------------
# Building the model as main() does
# ---------------------------------------------------------------------------

def _model_class(module):
    import torch.nn as nn

    cls = getattr(module, "GPT", None)
    if isinstance(cls, type) and issubclass(cls, nn.Module):
        return cls
    raise GolfError("cannot load the model: the script has no nn.Module class named GPT "
                    "(and no load_model_for_eval)")


def _constructor_keywords(source: str, class_name: str) -> dict[str, ast.expr]:
    """The keyword arguments of the first `GPT(...)` call in the script (main's build of the model)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == class_name:
            return {k.arg: k.value for k in node.keywords if k.arg}
    return {}


def _value(expr: ast.expr, hp):
    """`args.x` (any name: it is the Hyperparameters object in main) or a literal; else a KeyError."""
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and hasattr(hp, expr.attr):
        return getattr(hp, expr.attr)
    if isinstance(expr, ast.Constant):
        return expr.value
    raise KeyError(ast.unparse(expr))


def build_model(module, info: ScriptInfo, hp):
    cls = _model_class(module)
    keywords = _constructor_keywords(info.source, cls.__name__)
    kwargs = {}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in keywords:
            try:
                kwargs[name] = _value(keywords[name], hp)
                continue
            except KeyError:
                pass
        if hasattr(hp, name):
            kwargs[name] = getattr(hp, name)
        elif param.default is param.empty:
            raise GolfError(f"cannot build the model: GPT's argument {name!r} is neither a Hyperparameters "
                            f"attribute nor a plain `args.<name>` in the script's GPT(...) call")
    return cls(**kwargs)


def shape_settings(hp) -> str:
    return " ".join(f"{k.upper()}={getattr(hp, k)}" for k in SHAPE_KNOBS if hasattr(hp, k))


# ---------------------------------------------------------------------------
# The artifact through the script's own dequantizer
# ---------------------------------------------------------------------------

def _call_patterns(obj, template):
    values = list(obj.values()) if isinstance(obj, dict) and len(obj) <= 3 else []
    yield (obj,)
    yield (obj, template)
    if values:
        yield tuple(values)
        yield (*values, template)


def _is_state_dict(result) -> bool:
    import torch

    return isinstance(result, dict) and bool(result) and all(isinstance(v, torch.Tensor) for v in result.values())


def dequantize(module, info: ScriptInfo, obj, template: dict, where: str) -> tuple[dict, str]:
    """The float state dict, and the name of the function that produced it."""
    tried = []
    for name in info.dequantizers:
        function = getattr(module, name, None)
        if not callable(function):
            continue
        signature = inspect.signature(function)
        for args in _call_patterns(obj, template):
            try:
                signature.bind(*args)
            except TypeError:
                continue
            try:
                result = function(*args)
            except Exception:  # noqa: BLE001 - the wrong pattern for this artifact; try the next
                continue
            if isinstance(result, tuple) and result and _is_state_dict(result[0]):
                result = result[0]
            if _is_state_dict(result) and set(result) >= set(template):
                return result, name
        tried.append(name)
    if isinstance(obj, dict) and "__quant_format__" in obj:
        from golf.produce.artifact import dequantize_state_dict

        return dequantize_state_dict(obj, where), "golf.produce.artifact.dequantize_state_dict"
    if _is_state_dict(obj) and set(obj) >= set(template):
        return obj, "none (a plain state dict)"
    names = ", ".join(tried) or "none found (no top-level dequantize* function)"
    raise GolfError(f"{where}: cannot load the artifact: no dequantization function of the script turns it into "
                    f"the model's state dict (tried: {names})")


def load_weights(model, state: dict, hp, where: str) -> None:
    """load_state_dict(strict), with a one-line explanation of a shape mismatch."""
    expected = model.state_dict()
    for name, tensor in state.items():
        if name in expected and tuple(expected[name].shape) != tuple(tensor.shape):
            raise GolfError(f"{where}: shape mismatch: the artifact's {name} is {list(tensor.shape)} but the model "
                            f"built from {shape_settings(hp)} has {list(expected[name].shape)}; set the shape with "
                            f"submission.json run.env or --env KEY=VALUE")
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} model tensors are not in the artifact (first: {missing[0]})")
        if extra:
            parts.append(f"{len(extra)} artifact tensors are not in the model (first: {extra[0]})")
        raise GolfError(f"{where}: shape mismatch: {'; '.join(parts)}; the model was built from "
                        f"{shape_settings(hp)}; set the shape with submission.json run.env or --env KEY=VALUE")
    model.load_state_dict({k: state[k] for k in expected}, strict=True)


def load_record_model(module, info: ScriptInfo, hp, artifact: Path) -> tuple[object, dict]:
    """The float32 model with the artifact's weights, and what was used to get there."""
    from golf.produce.eval.decompress import decompress, load_object

    where = str(artifact)
    try:
        data = artifact.read_bytes()
    except OSError as error:
        raise GolfError(f"{where}: cannot read the artifact ({error.strerror or error})") from None
    raw, compressor = decompress(data, where)
    obj = load_object(raw, where)
    model = build_model(module, info, hp).float()
    template = {k: v.detach().float() for k, v in model.state_dict().items()}
    state, dequantizer = dequantize(module, info, obj, template, where)
    load_weights(model, state, hp, where)
    return model.eval(), {"compressor": compressor, "dequantizer": dequantizer}


# ---------------------------------------------------------------------------
# Numerics and logits
# ---------------------------------------------------------------------------

def _main_source(info: ScriptInfo) -> str:
    for node in ast.parse(info.source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            return ast.unparse(node)
    return ""


@dataclass
class Numerics:
    name: str            # "record" or "float32"
    bf16_model: bool
    autocast: bool

    def describe(self) -> str:
        if self.name == "float32":
            return "float32 model, no autocast"
        parts = ["bf16 model as main() casts it" if self.bf16_model else "model as built (no cast in main())",
                 "bf16 autocast" if self.autocast else "no autocast"]
        return ", ".join(parts)


def record_numerics(info: ScriptInfo) -> Numerics:
    """The model cast as main() casts it; bf16 autocast when the script evaluates under it anywhere."""
    autocast = any(isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "autocast"
                   and "bfloat16" in ast.unparse(node) for node in ast.walk(ast.parse(info.source)))
    return Numerics("record", ".bfloat16()" in _main_source(info), autocast)


def cast_like_main(model, module, numerics: Numerics):
    """A copy of the float32 model in the given numerics."""
    import torch

    model = copy.deepcopy(model)
    if not numerics.bf16_model:
        return model.float() if numerics.name == "float32" else model
    model.bfloat16()
    linear = getattr(module, "CastedLinear", None)
    for sub in model.modules():
        if isinstance(linear, type) and isinstance(sub, linear):
            sub.float()
    restore = getattr(module, "restore_low_dim_params_to_fp32", None)
    if callable(restore):
        restore(model)
    else:
        patterns = tuple(getattr(module, "CONTROL_TENSOR_NAME_PATTERNS", ()))
        with torch.no_grad():
            for name, param in model.named_parameters():
                if (param.ndim < 2 or any(p in name for p in patterns)) and param.dtype != torch.float32:
                    param.data = param.data.float()
    return model


class _CapturedLogits(Exception):
    def __init__(self, logits):
        self.logits = logits


@contextlib.contextmanager
def _capture_cross_entropy(module):
    """F.cross_entropy replaced by a function that stops the forward with its first argument."""
    import torch.nn.functional as F

    original = F.cross_entropy

    def capture(logits, *args, **kwargs):
        raise _CapturedLogits(logits)

    patched = [(F, "cross_entropy")]
    patched += [(module, name) for name, value in vars(module).items() if value is original]
    for owner, name in patched:
        setattr(owner, name, capture)
    try:
        yield
    finally:
        for owner, name in patched:
            setattr(owner, name, original)


def logits_function(model, module, numerics: Numerics, device: str):
    """input ids [B, T] -> logits [B, T, V]: forward_logits when the model has it, else the loss's logits."""
    import torch

    model = cast_like_main(model, module, numerics).to(device).eval()
    forward = getattr(model, "forward_logits", None)

    def head_logits(x):
        with _capture_cross_entropy(module):
            try:
                model(x, x)
            except _CapturedLogits as captured:
                logits = captured.logits
                return logits.reshape(x.shape[0], x.shape[1], -1)
        raise GolfError("cannot find the logits: the model's forward(input_ids, target_ids) never called "
                        "F.cross_entropy, and it has no forward_logits")

    base = forward if callable(forward) else head_logits
    device_type = torch.device(device).type
    if not numerics.autocast:
        return base, ("forward_logits" if callable(forward) else "the loss's logits (captured at F.cross_entropy)")

    def autocast_logits(x):
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            return base(x)
    return autocast_logits, ("forward_logits" if callable(forward) else "the loss's logits (captured at F.cross_entropy)")
