"""The causal-LM variants the study measures and a port can ship, by name (no export code here).

    from edge.generator.variants import VARIANTS, SHIPPABLE, qat_variant
    VARIANTS["int4-q41-fold"]                        # a Variant: the builder's precision and options
    qat_variant(texts_id(passages), QAT_B128)        # a trained variant, named by its training text

edge/generator/export.py builds any Variant into a cached folder (`build_variant`, `build_named`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from common.errors import UserError

MATMULS = ("attn/qkv_proj", "attn/o_proj", "mlp/gate_proj", "mlp/up_proj", "mlp/down_proj")


@dataclass(frozen=True)
class Variant:
    """One exported model. precision: the builder's -p. options: its --extra_options (KEY=VALUE).
    int8_layers: decoder layers whose MatMuls stay int8 in an int4 body (mixed precision).
    drop_layers: decoder blocks removed before export (structured pruning).
    sparsity: unstructured Wanda sparsity per output row (0 = none), from `calibration` texts.
    regrid: "q41" re-codes the (int4 asymmetric or int8) export on the weights' GGUF Q4_1 grid
    (q41.py), its block offsets in a side branch; "q41-fold<D>" folds them into the MatMulNBits as D
    digits; "q41-round" drops them (at int8 they are at most 1/34 of the grid's step).
    smooth: SmoothQuant's alpha (smooth.py) applied to the weights before export, from
    `calibration` texts (0 = none).
    dynamic: the fp32 export of the same weights through onnxruntime's dynamic int8 quantization
    (dynamic.py; `precision` stays fp32, the builder's part).
    qat: QATConfig fields (qat.py) as sorted (name, value) pairs: the weights are first trained on the
    int4 grid from `calibration` texts (empty: no training).
    shortlist: the LM head's k likeliest tokens scored again exactly on the head's Q8_0 grid
    (shortlist.py; 0 = none), on the export of the same variant without it."""

    name: str
    precision: str
    options: tuple[tuple[str, str], ...] = ()
    int8_layers: tuple[int, ...] = ()
    drop_layers: tuple[int, ...] = ()
    sparsity: float = 0.0
    note: str = ""
    calibration: str = ""  # hash of the calibration texts, for pruning/sparsity (set by the caller)
    regrid: str = ""
    smooth: float = 0.0
    dynamic: bool = False
    qat: tuple[tuple[str, object], ...] = ()
    shortlist: int = 0

    def with_(self, **changes) -> Variant:
        return dataclasses.replace(self, **changes)


def _v(name, precision, note, **options) -> Variant:
    return Variant(name, precision, tuple(sorted((k, str(v)) for k, v in options.items())), note=note)


# What edge/runtime/generate.py reads from a variant's folder: what a device needs of it.
MODEL_FILES = ("genai_config.json", "tokenizer.json", "model.onnx", "model.onnx.data")
CHAT_FILES = MODEL_FILES + ("chat.json",)  # and what its --chat reads (edge/generator/chat.py)

# The study's uniform variants; mixed precision and pruning are derived from measurements (bench/quant.py).
VARIANTS: dict[str, Variant] = {v.name: v for v in [
    _v("fp32", "fp32", "ONNX fp32, KV cache"),
    _v("int8", "int8", "int8 weights (MatMulNBits 8-bit, block 32), int8 compute", accuracy_level=4),
    _v("int8-q41", "int8", "int8 on the weights' Q4_1 grid (codes 17q), block offsets folded in",
       accuracy_level=4).with_(regrid="q41-fold1"),
    _v("int8-q41-round", "int8", "int8 on the weights' Q4_1 grid (codes 17q), offsets rounded to 1/34 step",
       accuracy_level=4).with_(regrid="q41-round"),
    _v("int8-dynamic", "fp32", "int8 by onnxruntime's quantize_dynamic (DynamicQuantizeMatMul: weights per "
       "channel, activations one scale a MatMul call: a decode step's token, a prefill's whole prompt), the seeds' "
       "and the detector's int8").with_(dynamic=True),
    _v("int8-acc1", "int8", "int8 weights (MatMulNBits 8-bit, block 32), fp32 compute", accuracy_level=1),
    _v("int8-b128", "int8", "int8 weights in blocks of 128 (fewer scales, coarser grid), int8 compute",
       accuracy_level=4, block_size=128),
    _v("int4", "int4", "int4 RTN symmetric block 32, int8 compute (accuracy level 4)", accuracy_level=4),
    _v("int4-gateup", "int4", "int4 RTN symmetric block 32 with gate and up in one MatMulNBits (then a Split)",
       accuracy_level=4, fuse_mlp_gate_up="true"),
    _v("int4-acc1", "int4", "int4 RTN symmetric block 32, fp32 compute (accuracy level 1)", accuracy_level=1),
    _v("int4-head8", "int4", "int4 body and embedding, LM head int8 (not shared)", accuracy_level=4,
       matmul_mixed_precision="last_matmul:int8", shared_embeddings="false", op_types_to_quantize="MatMul/Gather"),
    _v("int4-asym", "int4", "int4 RTN asymmetric block 32 (the GGUF Q4_1 grid)", accuracy_level=4,
       is_symmetric="false", shared_embeddings="false", op_types_to_quantize="MatMul/Gather"),
    _v("int4-asym-head8", "int4", "int4 RTN asymmetric block 32 (the weights' Q4_1 codes, zero points rounded), "
       "LM head int8", accuracy_level=4, is_symmetric="false", shared_embeddings="false",
       matmul_mixed_precision="last_matmul:int8"),
    _v("int4-q41", "int4", "int4 on the weights' GGUF Q4_1 grid + exact block offsets, LM head int8",
       accuracy_level=4, is_symmetric="false", shared_embeddings="false",
       matmul_mixed_precision="last_matmul:int8").with_(regrid="q41"),
    _v("int4-q41-fold", "int4", "int4-q41 with the block offsets folded into the int4 kernel (2 digits)",
       accuracy_level=4, is_symmetric="false", shared_embeddings="false",
       matmul_mixed_precision="last_matmul:int8").with_(regrid="q41-fold2"),
    _v("int4-q41-fold-head4", "int4", "int4-q41-fold with the LM head at the builder's asymmetric int4 "
       "(half the head's bytes a token; not on its Q8_0 grid)", accuracy_level=4, is_symmetric="false",
       shared_embeddings="false").with_(regrid="q41-fold2"),
    _v("int4-q41-fold-head4-top64", "int4", "int4-q41-fold-head4 with the int4 head's 64 likeliest tokens "
       "scored again on its exact Q8_0 rows (the int4 head's bytes a token, the int8 head's argmax)",
       accuracy_level=4, is_symmetric="false", shared_embeddings="false").with_(regrid="q41-fold2", shortlist=64),
    _v("int4-q41-fold1", "int4", "the same with 1 digit (the offsets to 1/14 of their range)",
       accuracy_level=4, is_symmetric="false", shared_embeddings="false",
       matmul_mixed_precision="last_matmul:int8").with_(regrid="q41-fold1"),
    _v("int4-q41-exact", "int4", "the same at accuracy level 1 (fp32 compute), LM head fp32",
       accuracy_level=1, is_symmetric="false", shared_embeddings="false",
       nodes_to_exclude="/lm_head/MatMul").with_(regrid="q41"),
    _v("int4-kquant", "int4", "int4 k_quant symmetric block 32", accuracy_level=4, algo_config="k_quant"),
    _v("int4-b16", "int4", "int4 RTN symmetric block 16", accuracy_level=4, block_size=16),
    _v("int4-b64", "int4", "int4 RTN symmetric block 64 (bench int4_blocks' middle block)",
       accuracy_level=4, block_size=64),
    _v("int4-b128", "int4", "int4 RTN symmetric block 128: the kernel's cheapest block, not the weights' grid",
       accuracy_level=4, block_size=128),
]}


SMOOTH = "int8-smooth"     # calibrated variants a port can ship: int8's graph, SmoothQuant's weights,
DYNAMIC_SMOOTH = "int8-dynamic-smooth"   # (or int8-dynamic's, onnxruntime's dynamic int8, after SmoothQuant)
QAT = "int4-qat"           # and int4's graph with weights trained on its grid (about an hour on 2 cores),
QAT_B64, QAT_B128 = "int4-b64-qat", "int4-b128-qat"  # or int4-b64's, int4-b128's (about 30 minutes each)
SMOOTH_ALPHA = 0.5
# QAT variant: (the variant whose graph and grid it trains for, QATConfig fields unlike the defaults)
QAT_B128_LSQ = "int4-b128-lsq"  # int4-b128-qat with each block's scale learned too (LSQ), written in by learned_grid.py
QAT_ASYM = "int4-asym-qat"      # int4-asym-head8's asymmetric grids (from the weights' own Q4_1 codes), trained
QAT_ASYM_LONG = "int4-asym-qat-long"  # int4-asym-qat at 600 steps (each training window about once)
QAT_ASYM_TOP1 = "int4-asym-qat-top1"  # int4-asym-qat with a push on fp32's argmax where the student's differs
QAT_ASYM4 = "int4-asym-head4-qat"  # int4-asym's: the same body, the LM head and embedding at asymmetric int4 too
QAT_RECIPES = {QAT: ("int4", {}), QAT_B64: ("int4-b64", {"block": 64, "steps": 300, "lr": 1e-4}),
               QAT_B128: ("int4-b128", {"block": 128, "steps": 300, "lr": 1e-4}),
               QAT_B128_LSQ: ("int4-b128", {"block": 128, "steps": 300, "lr": 1e-4, "scale_lr": 1e-3}),
               QAT_ASYM: ("int4-asym-head8", {"symmetric": False, "head_bits": 8, "steps": 300, "lr": 1e-4}),
               QAT_ASYM_LONG: ("int4-asym-head8", {"symmetric": False, "head_bits": 8, "steps": 600, "lr": 1e-4}),
               QAT_ASYM_TOP1: ("int4-asym-head8", {"symmetric": False, "head_bits": 8, "steps": 300, "lr": 1e-4,
                                                   "top1_weight": 0.5}),
               QAT_ASYM4: ("int4-asym", {"symmetric": False, "steps": 300, "lr": 1e-4})}
SHIPPABLE = (*VARIANTS, SMOOTH, DYNAMIC_SMOOTH, *QAT_RECIPES)


def smooth_variant(calibration: str, alpha: float = SMOOTH_ALPHA) -> Variant:
    """int8 after SmoothQuant at `alpha`, calibrated on the texts whose texts_id is `calibration`."""
    return VARIANTS["int8"].with_(name=SMOOTH, smooth=alpha, calibration=calibration,
                                  note=f"int8 after SmoothQuant (alpha {alpha}): activation outliers "
                                       "moved into the weights")


def dynamic_smooth_variant(calibration: str, alpha: float = SMOOTH_ALPHA) -> Variant:
    """int8-dynamic after SmoothQuant at `alpha`, calibrated on the texts whose texts_id is `calibration`."""
    return VARIANTS["int8-dynamic"].with_(name=DYNAMIC_SMOOTH, smooth=alpha, calibration=calibration,
                                          note=f"int8-dynamic after SmoothQuant (alpha {alpha})")


def qat_variant(training: str, name: str = QAT) -> Variant:
    """The QAT_RECIPES variant `name`: its base's graph after QAT (qat.py) on the base's grid, trained
    on the texts whose texts_id is `training`.

        qat_variant(texts_id(passages))                # int4-qat
        qat_variant(texts_id(passages), QAT_B128)      # int4-b128-qat
    """
    from edge.generator.qat import QATConfig

    base_name, overrides = QAT_RECIPES[name]
    base, config = VARIANTS[base_name], QATConfig(**overrides)
    options = dict(base.options)
    graph = (int(options.get("block_size", 32)), options.get("is_symmetric", "true") == "true",
             8 if options.get("matmul_mixed_precision") == "last_matmul:int8" else 4)
    if (config.block, config.symmetric, config.head_bits) != graph:
        raise ValueError(f"{name}: QAT's block {config.block}, symmetric {config.symmetric}, head bits "
                         f"{config.head_bits} are not {base_name}'s {graph}")
    return base.with_(name=name, qat=config.variant_fields(), calibration=training,
                      note=f"{base_name} RTN grid after {config.steps} steps of distillation from fp32 on it (QAT)")


def check_lm_variant(name: str) -> None:
    """The LM variant a port ships (`--set edge_lm=...`: an answerer's or a writer's) must be a SHIPPABLE one.

        check_lm_variant("int8-smooth")       # fine; "int3" raises a UserError naming the known ones
    """
    if name not in SHIPPABLE:
        raise UserError(f"edge_lm must be one of {', '.join(SHIPPABLE)}, got {name!r}")
