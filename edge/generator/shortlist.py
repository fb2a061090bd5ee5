"""An int4 LM head whose likeliest tokens are scored again exactly on the head's Q8_0 grid (host only).

    from edge.generator.shortlist import shortlist_head
    shortlist_head(int4_folder, fp32_folder, out_folder, k=64)   # out_folder/model.onnx(.data)

The zoo's tied embedding / LM head lies on a GGUF Q8_0 grid. At int8 (int4-q41-fold's head) it is
exact but 32 MB a decode step reads, a quarter of int4-q41-fold's bytes; at int4 (int4-q41-fold-head4)
it is 18 MB, and its logits move enough to cost +9% perplexity and a quarter of fp32's next tokens.
Here the int4 head's logits pick the `k` likeliest tokens (TopK), their rows of the exact Q8_0 table
are read (Gather: k rows, not the table) and their logits computed again, and those replace the int4
ones (ScatterElements). The argmax is then the exact head's unless it lies outside the int4 head's
top k, and only the tail of the softmax keeps the int4 head's error. Graph (hidden (B, S, K)):

    logits4 = head(hidden)                           # the export's own int4 MatMulNBits
    _, top = TopK(logits4, k)                        # (B, S, k)
    rows = Gather(codes, top) * Gather(scales, top)  # int8 codes (V, K/32, 32), scales (V, K/32, 1)
    exact = MatMul(Reshape(rows, (B, S, k, K)), Unsqueeze(hidden, -1))   # (B, S, k, 1)
    logits = ScatterElements(logits4, top, Squeeze(exact), axis=-1)

An export whose embedding is an fp32 table of the head's shape with the same values (SmolLM2 is
tied; int4-q41-fold-head4 unshares it and leaves it fp32: 113 MB) reads its rows from the Q8_0
table instead, so the model carries one table, not two (`embedding`).

The table is read only through Gather, so measure.weight_bytes_per_token counts it as rows. The
intermediate rows take S * k * K floats: 38 MB for a 256-token window at k = 64 (a decode step:
one position; edge/generator/logits_from.py slices a prefill to the positions read).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.generator.logits_from import lm_head
from edge.generator.q41 import BLOCK, q80_codes

STEM = "/lm_head/shortlist"


def add_shortlist(model, head_weight: np.ndarray, k: int, output: str = "logits", tolerance: float = 1e-3,
                  embedding: bool = True) -> dict:
    """Rewrite `model` (an onnx ModelProto) in place so that `output`'s k largest logits per position
    are hidden @ head_weight.T computed exactly on head_weight's Q8_0 grid; head_weight (V, K) must
    lie on that grid (ValueError otherwise). embedding: an fp32 Gather table equal to head_weight
    is replaced by the same rows of the Q8_0 table (_share_embedding). Returns what was done."""
    from onnx import helper, numpy_helper

    graph = model.graph
    vocab, width = head_weight.shape
    if not 0 < k <= vocab:
        raise ValueError(f"shortlist k must be in 1..{vocab}, got {k}")
    codes, scales, off_grid = q80_codes(head_weight)
    if off_grid > tolerance:
        raise ValueError(f"the LM head is not on a Q8_0 grid (codes off by up to {off_grid:.3g} steps)")
    hidden = lm_head(graph, output).input[0]
    last = next(node for node in graph.node if output in node.output)
    int4_logits = f"{STEM}/int4_logits"
    last.output[list(last.output).index(output)] = int4_logits
    graph.initializer.extend([
        numpy_helper.from_array((codes.astype(np.int16) - 128).astype(np.int8), f"{STEM}.codes"),  # (V, K/32, 32)
        numpy_helper.from_array(scales[..., None], f"{STEM}.scales"),                             # (V, K/32, 1)
        numpy_helper.from_array(np.array([k], np.int64), f"{STEM}.k"),
        numpy_helper.from_array(np.array([0, 0, 0, width], np.int64), f"{STEM}.rows_shape"),
        numpy_helper.from_array(np.array([-1], np.int64), f"{STEM}.last_axis"),
    ])
    s = STEM
    graph.node.extend([
        helper.make_node("TopK", [int4_logits, f"{s}.k"], [f"{s}/top_values", f"{s}/top"], name=f"{s}/TopK",
                         axis=-1, largest=1, sorted=0),
        *_table_rows(f"{s}/top", s),
        helper.make_node("Reshape", [f"{s}/blocks", f"{s}.rows_shape"], [f"{s}/rows"], name=f"{s}/Reshape"),
        helper.make_node("Unsqueeze", [hidden, f"{s}.last_axis"], [f"{s}/column"], name=f"{s}/Unsqueeze"),
        helper.make_node("MatMul", [f"{s}/rows", f"{s}/column"], [f"{s}/exact_column"], name=f"{s}/MatMul"),
        helper.make_node("Squeeze", [f"{s}/exact_column", f"{s}.last_axis"], [f"{s}/exact"], name=f"{s}/Squeeze"),
        helper.make_node("ScatterElements", [int4_logits, f"{s}/top", f"{s}/exact"], [output],
                         name=f"{s}/ScatterElements", axis=-1),
    ])
    shared = _share_embedding(model, head_weight, tolerance) if embedding else None
    return {"k": k, "vocab": vocab, "width": width, "blocks": width // BLOCK, "off_grid": off_grid,
            "embedding_from_q8_0": shared}


def _table_rows(indices: str, s: str) -> list:
    """Nodes making `s`/blocks: the Q8_0 table's rows at `indices`, dequantized (..., K/32, 32) floats."""
    from onnx import TensorProto, helper

    return [helper.make_node("Gather", [f"{STEM}.codes", indices], [f"{s}/codes"], name=f"{s}/GatherCodes", axis=0),
            helper.make_node("Gather", [f"{STEM}.scales", indices], [f"{s}/scales"], name=f"{s}/GatherScales", axis=0),
            helper.make_node("Cast", [f"{s}/codes"], [f"{s}/codes_float"], name=f"{s}/Cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{s}/codes_float", f"{s}/scales"], [f"{s}/blocks"], name=f"{s}/Mul")]


def _share_embedding(model, head_weight: np.ndarray, tolerance: float) -> str | None:
    """Point the Gather that reads an fp32 table equal to head_weight (within `tolerance` of its
    largest value) at the Q8_0 table's rows, and drop the fp32 table; returns the Gather's name."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    for node in graph.node:
        table = inits.get(node.input[0]) if node.op_type == "Gather" and node.input else None
        if table is None or table.data_type != TensorProto.FLOAT or list(table.dims) != list(head_weight.shape):
            continue
        values = numpy_helper.to_array(table)
        if np.abs(values - head_weight).max() > tolerance * np.abs(head_weight).max():
            continue
        if sum(name == table.name for other in graph.node for name in other.input) > 1:
            continue                                     # someone else reads the fp32 table too: keep it
        s, out = f"{STEM}/embedding", node.output[0]
        position = list(graph.node).index(node)
        made = [
            *_table_rows(node.input[1], s),
            helper.make_node("Reshape", [f"{s}/blocks", f"{s}.shape"], [out], name=f"{s}/Reshape"),
        ]
        graph.initializer.append(numpy_helper.from_array(np.array([0, 0, head_weight.shape[1]], np.int64), f"{s}.shape"))
        graph.node.remove(node)
        for offset, new in enumerate(made):
            graph.node.insert(position + offset, new)
        graph.initializer.remove(table)
        return node.name
    return None


def fp32_head_weight(fp32_folder: Path) -> np.ndarray:
    """The (V, K) LM head weight of an fp32 export (its head MatMul's initializer, stored (K, V))."""
    import onnx
    from onnx import numpy_helper
    from onnx.external_data_helper import load_external_data_for_tensor, uses_external_data

    model = onnx.load(str(Path(fp32_folder) / "model.onnx"), load_external_data=False)   # the head alone, not 540 MB
    head = lm_head(model.graph)
    inits = {i.name: i for i in model.graph.initializer}
    if head.op_type != "MatMul" or head.input[1] not in inits:
        raise ValueError(f"{fp32_folder}: the LM head ({head.op_type}) has no fp32 weight initializer")
    tensor = inits[head.input[1]]
    if uses_external_data(tensor):
        load_external_data_for_tensor(tensor, str(fp32_folder))
    return numpy_helper.to_array(tensor).T


def shortlist_head(folder: Path, fp32_folder: Path, out: Path, k: int, log=print) -> dict:
    """Write out/model.onnx(.data): `folder`'s model with its LM head's top k rescored exactly on the
    fp32 export's Q8_0 head (add_shortlist). Returns what was done."""
    import onnx

    model = onnx.load(str(Path(folder) / "model.onnx"))
    done = add_shortlist(model, fp32_head_weight(fp32_folder), k)
    onnx.save(model, str(Path(out) / "model.onnx"), save_as_external_data=True, location="model.onnx.data",
              size_threshold=1024)
    log(f"shortlist: the LM head's {k} likeliest tokens of {done['vocab']} rescored on its Q8_0 grid")
    return done
