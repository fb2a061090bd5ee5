"""Where a decode step's time goes: onnxruntime's own profiler over a greedy continuation.

    from edge.generator.profile import decode_profile
    p = decode_profile(folder, threads=1, new_tokens=64)
    p["ms_per_token"], p["run_ms"], p["kernels_ms"]["MatMulNBits"], p["weights_gb_s"]

    python -m edge.generator.profile FOLDER [FOLDER ...] [--threads 1] [--new-tokens 64]

Per decode token (the prefill excluded): the wall time of a step as the device runtime takes it
(edge/runtime/generate.py), the time inside `session.run`, the sum of the kernels' times by
operator type, and what is left: onnxruntime's own work between kernels (graph walk, allocation,
the KV cache outputs) and, outside `run`, the runtime's Python (feeds, argmax). weights_gb_s is the
bytes of weights a token reads (edge/generator/study.py) over the time of the kernels that read
them (MatMul, MatMulNBits): how close the weight reads themselves come to the memory bandwidth
(edge/generator/measure.py read_bandwidth_gb_s; this profile runs at 1 thread).
The profiler adds a little time per kernel; read its figures as shares, not as speeds.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from common.errors import OneLineParser, UserError

PROMPT = "The history of the Roman Empire began when"
WEIGHT_OPS = ("MatMul", "MatMulNBits", "Gemm")


def decode_profile(folder: Path, threads: int = 1, new_tokens: int = 64) -> dict:
    """One profiled greedy continuation of PROMPT (`new_tokens` tokens, no EOS stop)."""
    import onnxruntime as ort

    from edge.generator.measure import weight_bytes_per_token
    from edge.runtime.causal_lm import CausalLM

    lm = CausalLM(folder, threads=threads)
    lm.generate_ids(lm.encode(PROMPT), 4, stop_at_eos=False)   # warm-up, unprofiled
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.enable_profiling, options.profile_file_prefix = True, str(Path(tmp) / "decode")
        config = json.loads((Path(folder) / "genai_config.json").read_text(encoding="utf-8"))["model"]["decoder"]
        model = str(Path(folder) / config.get("filename", "model.onnx"))
        lm.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        run_s: list[float] = []

        def timed(run):
            def timed_run(*args, **kwargs):
                start = time.perf_counter()
                out = run(*args, **kwargs)
                run_s.append(time.perf_counter() - start)
                return out
            return timed_run

        # the decode runs through an IO binding when the model shares its KV buffer (generate.py)
        lm.session.run, lm.session.run_with_iobinding = timed(lm.session.run), timed(lm.session.run_with_iobinding)
        timings: dict = {}
        lm.generate_ids(lm.encode(PROMPT), new_tokens, stop_at_eos=False, timings=timings)
        events = json.loads(Path(lm.session.end_profiling()).read_text())
    steps = new_tokens - 1                          # the first token comes from the prefill
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    decode_runs = runs[-steps:]
    first = decode_runs[0]["ts"]
    kernels: dict[str, float] = defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= first:
            kernels[e["args"]["op_name"]] += e["dur"] / 1000 / steps
    kernel_ms = sum(kernels.values())
    weight_ms = sum(kernels.get(op, 0.0) for op in WEIGHT_OPS)
    run_ms = float(np.sum(run_s[-steps:])) * 1000 / steps
    ms_per_token = timings["decode_s"] * 1000 / steps
    bytes_per_token = weight_bytes_per_token(Path(folder))
    return {"folder": str(folder), "threads": threads, "tokens": steps, "ms_per_token": ms_per_token,
            "run_ms": run_ms, "kernel_ms": kernel_ms, "ort_overhead_ms": run_ms - kernel_ms,
            "python_ms": ms_per_token - run_ms, "kernels_ms": dict(sorted(kernels.items(), key=lambda kv: -kv[1])),
            "weight_kernels_ms": weight_ms, "weight_mb_per_token": bytes_per_token / 1e6,
            "weights_gb_s": bytes_per_token / (weight_ms / 1000) / 1e9 if weight_ms else None,
            "nodes_per_token": sum(1 for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")
                                   and e["ts"] >= first) / steps}


def format_profiles(profiles: dict[str, dict], top: int = 4) -> str:
    """A markdown table: one row per variant, ms per decode token split by where it goes."""
    head = ("| variant | ms/token | in session.run | kernels | weight MatMuls | other kernels (top) | "
            "onnxruntime between kernels | Python runtime | kernels/token | weight reads GB/s |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, p in profiles.items():
        others = [(op, ms) for op, ms in p["kernels_ms"].items() if op not in WEIGHT_OPS][:top]
        other = ", ".join(f"{op} {ms:.2f}" for op, ms in others)
        gbs = f"{p['weights_gb_s']:.1f}" if p["weights_gb_s"] else "-"
        lines.append(f"| {name} | {p['ms_per_token']:.2f} | {p['run_ms']:.2f} | {p['kernel_ms']:.2f} | "
                     f"{p['weight_kernels_ms']:.2f} | {other} | {p['ort_overhead_ms']:.2f} | {p['python_ms']:.2f} | "
                     f"{p['nodes_per_token']:.0f} | {gbs} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m edge.generator.profile", description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="exported model folders (edge/generator/export.py)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--new-tokens", type=int, default=64)
    try:
        args = parser.parse_args(argv)
        missing = [str(f) for f in args.folders if not (f / "genai_config.json").is_file()]
        if missing:
            raise UserError(f"not model folders: {', '.join(missing)}")
        if args.new_tokens < 2 or args.threads < 1:
            raise UserError("--new-tokens must be >= 2 and --threads >= 1")
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    profiles = {f.name: decode_profile(f, args.threads, args.new_tokens) for f in args.folders}
    print(format_profiles(profiles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
