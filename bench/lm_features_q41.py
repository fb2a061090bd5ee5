"""predict-the-llm's edge student with its statistics model at int4-q41 instead of int8.

    python -m bench.lm_features_q41            # after `make edge COMP=predict-the-llm` (reads build/edge/predict-the-llm/)
    python -m bench.lm_features_q41 --accuracy-level 4

The zoo's SmolLM2 weights are a dequantized GGUF Q4_1, so edge/generator/q41.py re-codes every
decoder MatMul on its own grid exactly (asymmetric RTN int4 from onnxruntime's quantizer, then
`regrid_q41`), the LM head kept fp32. This prints the held-out log loss of the same linear head over the statistics of
that model, on the same held-out responses `make edge` compares on, beside the model's size.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from common.errors import UserError
from common.paths import repo_root

BUILD = repo_root() / "build" / "edge" / "predict-the-llm"


def q41_model(fp32: Path, out: Path, accuracy_level: int) -> Path:
    """out/model.onnx: `fp32` (a torch-exported ONNX) as int4 on the weights' own Q4_1 grid."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    from edge.generator.q41 import regrid_q41

    if (out / "model.onnx").exists():
        return out / "model.onnx"
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    source, asym = out / "fp32", out / "asym"
    for folder in (source, asym):
        folder.mkdir(parents=True, exist_ok=True)
    if not (source / "model.onnx").exists():
        (source / "model.onnx").symlink_to(fp32.resolve())
    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=False, bits=4, accuracy_level=accuracy_level)
    graph = onnx.load(str(fp32))
    # the tied embedding / LM head is not on a Q4_1 grid in the zoo's GGUF: RTN int4 there costs
    # most of the quality (held-out log loss 0.5569 with it), so it stays fp32
    head = [n.name for n in graph.graph.node if n.op_type == "MatMul" and "lm_head" in n.name]
    quantizer = MatMulNBitsQuantizer(graph, algo_config=config, nodes_to_exclude=head)
    quantizer.process()
    quantizer.model.save_model_to_file(str(asym / "model.onnx"), use_external_data_format=False)
    print("regrid:", regrid_q41(asym, source, out, log=lambda *a: None))
    return out / "model.onnx"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accuracy-level", type=int, default=1, choices=(1, 4))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    fp32, bundle = BUILD / "student.fp32.onnx", BUILD / "bundle"
    if not fp32.exists() or not (bundle / "config.json").exists():
        print(f"error: run `make edge COMP=predict-the-llm` first (no {fp32} or {bundle}/config.json)", file=sys.stderr)
        return 2
    from common.data import load_dataset
    from common.registry import get_competition
    from competitions.predict_the_llm.edge import spec
    from edge.lm_features.steps import FeatureRunner

    try:
        model = q41_model(fp32, BUILD / f"q41-acc{args.accuracy_level}", args.accuracy_level)
        ds = spec(load_dataset(get_competition("predict-the-llm")), seed=args.seed)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    config = json.loads((bundle / "config.json").read_text())
    runner = FeatureRunner(config, bundle / "tokenizer.json", model)
    started = time.perf_counter()
    probs = runner.proba(ds.holdout_inputs)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in model.parent.iterdir() if p.is_file()) / 2**20
    print(f"int4-q41 (accuracy level {args.accuracy_level}): held-out log loss "
          f"{ds.score(probs):.4f} on {len(probs)} responses; "
          f"teacher {ds.teacher_score:.4f}; model {size:.1f} MB; {seconds / len(probs) * 1000:.0f} ms a response")
    return 0


if __name__ == "__main__":
    sys.exit(main())
