"""Write a learned-scale QAT folder's int4 grid into the builder's export of it (host only).

    from edge.generator.learned_grid import write_learned_grid
    write_learned_grid(export_folder, qat_folder, out_folder, block=128)

The builder derives each block's scale from its largest weight (that weight at code -8). A folder
trained with learned scales (qat.py, `scale_lr`) has blocks whose scale was clipped below that, so
the builder would round them again. This writes every MatMulNBits' codes and scales from the
folder's weights and its QAT_SCALES.npz instead: code round(w / scale) + 8, refused unless every
weight lies on its grid. The builder fuses q, k and v into one qkv_proj MatMul, their rows one
after another; the tied embedding's GatherBlockQuantized reads lm_head's initializers, so it follows.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

FUSED = {"qkv_proj": ("q_proj", "k_proj", "v_proj")}
OFF_GRID = 1e-3  # the largest |w / scale - code| accepted: a weight written by qat.py is within float error


def linear_names(node_name: str) -> list[str] | None:
    """The HF Linear names a builder MatMulNBits node computes, in its row order (None: not one).

        linear_names("/model/layers.3/attn/qkv_proj/MatMul_Q4")
        # ['model.layers.3.self_attn.q_proj', 'model.layers.3.self_attn.k_proj', 'model.layers.3.self_attn.v_proj']
    """
    if node_name.startswith("/lm_head/"):
        return ["lm_head"]
    found = re.search(r"/model/layers\.(\d+)/(attn|mlp)/(\w+)/MatMul", node_name)
    if not found:
        return None
    layer, kind, part = found.groups()
    module = "self_attn" if kind == "attn" else "mlp"
    return [f"model.layers.{layer}.{module}.{p}" for p in FUSED.get(part, (part,))]


def grid_codes(weight: np.ndarray, scales: np.ndarray, block: int) -> tuple[np.ndarray, float]:
    """(codes (N, blocks, block) uint8, stored + 8; the largest |w / scale - code|) of a weight (N, K)
    on the symmetric grid of `scales` (N, blocks), K zero-padded to whole blocks."""
    n, k = weight.shape
    padded = np.zeros((n, scales.shape[1] * block))
    padded[:, :k] = weight
    exact = padded.reshape(n, -1, block) / scales.astype(np.float64)[..., None]
    codes = np.clip(np.round(exact), -8, 7)
    return (codes + 8).astype(np.uint8), float(np.abs(exact - codes).max())


def _folder_weights(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    weights = {}
    for path in sorted(Path(folder).glob("*.safetensors")):
        weights.update(load_file(str(path)))
    weights.setdefault("lm_head.weight", weights.get("model.embed_tokens.weight"))  # a tied head is not saved
    return weights


def write_learned_grid(export: Path, source: Path, out: Path, block: int, log=print) -> dict:
    """Re-write `export`/model.onnx's MatMulNBits from `source` (a learned-scale QAT folder) into
    `out`/model.onnx(.data), `out` another folder (onnx appends to an external data file that
    exists). Returns {"recoded": count, "off_grid": the largest |w / scale - code|}."""
    import onnx
    from onnx import numpy_helper

    from edge.generator.q41 import pack_nibbles
    from edge.generator.qat import SCALES_FILE

    weights, scales = _folder_weights(source), np.load(Path(source) / SCALES_FILE)
    model = onnx.load(str(Path(export) / "model.onnx"))
    inits = {i.name: i for i in model.graph.initializer}
    recoded, worst = 0, 0.0
    for node in model.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        names = linear_names(node.name)
        if names is None or any(f"{name}.weight" not in weights or name not in scales for name in names):
            raise ValueError(f"{node.name}: no learned grid for it in {source}")
        parts = [grid_codes(weights[f"{name}.weight"], scales[name], block) for name in names]
        worst = max([worst] + [off for _, off in parts])
        if worst > OFF_GRID:
            raise ValueError(f"{source}: a weight of {node.name} lies {worst:.3g} of a step off its learned grid")
        codes = np.concatenate([c for c, _ in parts])
        scale = np.concatenate([scales[name] for name in names]).astype(np.float32)
        for name, value in ((node.input[1], pack_nibbles(codes)), (node.input[2], scale)):
            shape = tuple(inits[name].dims)
            inits[name].CopyFrom(numpy_helper.from_array(value.reshape(shape), name))
        recoded += 1
    onnx.save(model, str(Path(out) / "model.onnx"), save_as_external_data=True, location="model.onnx.data",
              size_threshold=1024)
    log(f"learned grid: {recoded} MatMulNBits re-coded from {Path(source).name} (off grid at most {worst:.2g})")
    return {"recoded": recoded, "off_grid": worst}
