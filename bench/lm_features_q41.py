"""predict-the-llm's edge student with its statistics model at int4-q41, in settings `make edge`
does not ship: int8 compute (accuracy level 4) and the LM head at int4 too.

    kllm bench lm_features_q41            # after `make edge COMP=predict-the-llm` (reads build/edge/predict-the-llm/)
    kllm bench lm_features_q41 --accuracy-level 4
    kllm bench lm_features_q41 --head-int4

The zoo's SmolLM2 weights are a dequantized GGUF Q4_1, so edge/generator/q41.py re-codes every
decoder MatMul on its own grid exactly (asymmetric RTN int4 from onnxruntime's quantizer, then
`regrid_q41`), the LM head kept fp32. This prints the held-out log loss of the same linear head over the statistics of
that model, on the same held-out responses `make edge` compares on, beside the model's size.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from common.errors import OneLineParser, UserError, seed_arg
from common.paths import repo_root

BUILD = repo_root() / "build" / "edge" / "predict-the-llm"


def q41_model(fp32: Path, out: Path, accuracy_level: int, head_int4: bool = False) -> Path:
    """`fp32` (a torch-exported ONNX) as int4 on the weights' own Q4_1 grid (cached in `out`)."""
    from edge.quantize import quantize_q41

    model = out / "model.onnx"
    if not model.exists():
        out.mkdir(parents=True, exist_ok=True)
        quantize_q41(fp32, model, accuracy_level, keep_fp32=() if head_int4 else ("lm_head",))
    return model


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="kllm bench lm_features_q41", description=__doc__.split("\n")[0])
    parser.add_argument("--accuracy-level", type=int, default=1, choices=(1, 4))
    parser.add_argument("--head-int4", action="store_true", help="quantize the LM head too (RTN int4)")
    parser.add_argument("--seed", type=seed_arg, default=42)
    try:
        args = parser.parse_args(argv)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    fp32, bundle = BUILD / "student.fp32.onnx", BUILD / "bundle"
    if not fp32.exists() or not (bundle / "config.json").exists():
        print(f"error: run `make edge COMP=predict-the-llm` first (no {fp32} or {bundle}/config.json)", file=sys.stderr)
        return 2
    from common.data import load_dataset
    from common.registry import get_competition
    from competitions.predict_the_llm.edge import spec
    from edge.lm_features.steps import FeatureRunner

    try:
        name = f"q41-acc{args.accuracy_level}" + ("-head4" if args.head_int4 else "")
        model = q41_model(fp32, BUILD / name, args.accuracy_level, args.head_int4)
        ds = spec(load_dataset(get_competition("predict-the-llm")), seed=args.seed)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    config = json.loads((bundle / "config.json").read_text())
    runner = FeatureRunner(config, bundle / "tokenizer.json", model)
    started = time.perf_counter()
    probs = runner.proba(ds.holdout_inputs)
    seconds = time.perf_counter() - started
    size = model.stat().st_size / 2**20
    print(f"int4-q41 (accuracy level {args.accuracy_level}, LM head {'int4' if args.head_int4 else 'fp32'}): held-out log loss "
          f"{ds.score(probs):.4f} on {len(probs)} responses; "
          f"teacher {ds.teacher_score:.4f}; model {size:.1f} MB; {seconds / len(probs) * 1000:.0f} ms a response")
    return 0


if __name__ == "__main__":
    sys.exit(main())
