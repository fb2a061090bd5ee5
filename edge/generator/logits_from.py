"""Let a causal LM's prefill skip the LM head for the positions nobody reads (host only).

    from edge.generator.logits_from import add_logits_from
    add_logits_from(Path("lm/model.onnx"), Path("bundle/model.onnx"))   # model.onnx.data stays as is

The model builder's graph computes logits (B, T, V) for every position it is fed. A prompt's
prefill needs only the last one (the next token), and scoring a continuation only those from
the context's last token on; the rest cost one vocabulary-wide MatMul each (SmolLM2: 49,152 x 576
per token, a fifth of its weights) and a (T, V) output. This adds a Slice on the sequence axis
before the LM head (and before any other reader of its hidden states on the way to the logits:
shortlist.py's exact rows), starting at the graph input LOGITS_FROM: an initializer [0] that is also
listed as a graph input, which onnxruntime treats as an input with a default (an "overridable
initializer"). Whoever does not feed it (onnxruntime-genai, an older runtime) gets every position,
as before; edge/runtime/generate.py feeds it when its session has it. Only the graph file is
rewritten: the weights' external data keep their file name, so the new model.onnx goes beside
the same model.onnx.data.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

LOGITS_FROM = "logits_from"
# MatMulInteger: int8-dynamic's head, whose input is the hidden states already quantized (one scale for
# all positions, so slicing after it leaves the kept rows as they were)
HEAD_OPS = ("MatMul", "MatMulNBits", "MatMulInteger", "Gemm")


def lm_head(graph, output: str = "logits"):
    """The node whose matrix product makes `output`, walking back through single-input nodes
    (a Cast, say) that may follow it."""
    producers = {name: node for node in graph.node for name in node.output}
    node = producers.get(output)
    while node is not None and node.op_type not in HEAD_OPS:
        node = producers.get(node.input[0]) if node.input else None
    if node is None:
        raise ValueError(f"no MatMul makes {output!r}: not a causal LM export")
    return node


def _feeding(graph, output: str) -> list:
    """The nodes whose outputs `output` is computed from."""
    producers = {name: node for node in graph.node for name in node.output}
    seen, todo = {}, [output]
    while todo:
        node = producers.get(todo.pop())
        if node is not None and id(node) not in seen:
            seen[id(node)] = node
            todo.extend(node.input)
    return list(seen.values())


def add_logits_from(src: Path, dst: Path, output: str = "logits") -> str:
    """Write `src`'s graph with the Slice to `dst` (atomically); returns the LM head's node name.
    dst must end up beside the weights' external data file (same name as src's)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from common.atomic import atomic_path

    model = onnx.load(str(src), load_external_data=False)
    graph = model.graph
    if any(i.name == LOGITS_FROM for i in graph.input):
        raise ValueError(f"{src} already has a {LOGITS_FROM} input")
    head = lm_head(graph, output)
    hidden = head.input[0]
    graph.initializer.extend([numpy_helper.from_array(np.array([0], np.int64), LOGITS_FROM),
                              numpy_helper.from_array(np.array([np.iinfo(np.int64).max], np.int64),
                                                      f"{LOGITS_FROM}/end"),
                              numpy_helper.from_array(np.array([1], np.int64), f"{LOGITS_FROM}/axis")])
    graph.input.append(helper.make_tensor_value_info(LOGITS_FROM, TensorProto.INT64, [1]))
    sliced = f"{LOGITS_FROM}/hidden"
    position = list(graph.node).index(head)
    graph.node.insert(position, helper.make_node("Slice", [hidden, LOGITS_FROM, f"{LOGITS_FROM}/end",
                                                           f"{LOGITS_FROM}/axis"], [sliced],
                                                 name=f"/{LOGITS_FROM}/Slice"))
    for node in _feeding(graph, output):   # the head, and whatever else makes the logits from the same
        if node.name != f"/{LOGITS_FROM}/Slice":   # hidden states (shortlist.py's exact rows)
            node.input[:] = [sliced if name == hidden else name for name in node.input]
    with atomic_path(Path(dst), suffix=".onnx") as tmp:
        onnx.save(model, str(tmp))
    return head.name
