"""`kllm bench zero_points`: can one MatMulNBits hold the weights' Q4_1 grid exactly at int4's speed?

    make bench BENCH=zero_points
    python -m cli bench zero_points --shapes 576x960,1536x576 --threads 1,2 --rounds 5

The zoo's weights are GGUF Q4_1 blocks of 32: w = d*q + m, q in 0..15. MatMulNBits computes
scale * (code - zero_point), and its schema lets the zero points be uint8 (packed, integer) or
floats of the scales' type. With float zero points z = -m/d the Q4_1 grid is exact in one node,
with no leftover branch (int4-q41-fold's two extra digits). This benchmark times one MatMulNBits
at batch 1 (a decode step) for each decoder shape of SmolLM2-135M (K x N: fused qkv, o, gate or
up, down), on random Q4_1 weights, in three forms at accuracy level 4 (int8 compute):
- `uint8`: integer zero points, -m/d rounded (int4-asym-head8's grid: the fast kernel's form);
- `float`: the exact zero points -m/d as float32;
- `symmetric`: no zero points (the builder's default int4, another grid).
Per shape and form: microseconds per MatMul (16 nodes reading one input in one session, the
forms interleaved over the rounds; median, min-max), its ratio to `uint8` (the median of the
rounds' ratios) and the output's largest error against numpy's fp32 product with the exact Q4_1
weights, relative to the output's largest value (the `symmetric` row's weights are other codes:
its error column is that form's own rounding of the same weights to its grid). Writes
cache/bench/zero_points.json and .png.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

FORMS = ("uint8", "float", "symmetric")
DEFAULT_SHAPES = "576x960,576x576,576x1536,1536x576"  # SmolLM2-135M: qkv fused, o, gate/up, down
MAX_WEIGHTS = 1 << 26   # 67M weights: 4096 x 16384, past any layer of the models studied here
NODES = 16


def q41_blocks(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random Q4_1 weights (N, K): (codes (N, K/32, 32) 0..15, d (N, K/32) > 0, m (N, K/32)), blocks
    spanning zero as trained weights do (m in [-12d, -3d])."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 16, (n, k // 32, 32)).astype(np.uint8)
    d = (rng.random((n, k // 32)) * 0.02 + 0.002).astype(np.float32)
    m = (-d * rng.uniform(3, 12, d.shape)).astype(np.float32)
    return codes, d, m


def form_inputs(form: str, codes, d, m) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """(packed B, scales, zero points or None, the weights (N, K) this form computes with)."""
    from edge.generator.q41 import pack_nibbles

    n = codes.shape[0]
    if form == "symmetric":  # the builder's grid: each block's largest-magnitude weight at code -8
        import torch

        from edge.generator.gptq import block_grid
        from edge.generator.learned_grid import grid_codes

        w = (codes * d[..., None] + m[..., None]).astype(np.float64)
        scale = block_grid(torch.from_numpy(w), symmetric=True)[0][..., 0].numpy().astype(np.float32)
        stored, _ = grid_codes(w.reshape(n, -1), scale, 32)
        return pack_nibbles(stored), scale.reshape(-1), None, ((stored - 8.0) * scale[..., None]).reshape(n, -1)
    zero = -m / d
    if form == "uint8":
        zero = np.clip(np.round(zero), 0, 15)
        packed_zero = pack_nibbles(zero.astype(np.uint8)).reshape(-1)
    else:
        packed_zero = zero.astype(np.float32).reshape(-1)
    w = ((codes - zero[..., None]) * d[..., None]).reshape(n, -1).astype(np.float32)
    return pack_nibbles(codes), d.reshape(-1), packed_zero, w


def session(k: int, n: int, packed, scales, zero, threads: int, nodes: int = NODES):
    """An onnxruntime session of `nodes` MatMulNBits (4 bits, block 32, accuracy level 4) reading one
    (1, K) input, every node with the same weights."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    inputs = ["X", "B", "S"] + (["Z"] if zero is not None else [])
    inits = [numpy_helper.from_array(packed, "B"), numpy_helper.from_array(scales, "S")]
    inits += [numpy_helper.from_array(zero, "Z")] if zero is not None else []
    graph = helper.make_graph(
        [helper.make_node("MatMulNBits", inputs, [f"Y{i}"], domain="com.microsoft", K=k, N=n, bits=4,
                          block_size=32, accuracy_level=4) for i in range(nodes)],
        "zero_points", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info(f"Y{i}", TensorProto.FLOAT, [1, n]) for i in range(nodes)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def time_us(sess, x: np.ndarray, repeats: int, nodes: int = NODES) -> float:
    """Microseconds per MatMul: the mean over `repeats` runs of the session, after 3 warm-up runs."""
    for _ in range(3):
        sess.run(None, {"X": x})
    start = time.perf_counter()
    for _ in range(repeats):
        sess.run(None, {"X": x})
    return (time.perf_counter() - start) / repeats / nodes * 1e6


def measure(shapes: list[tuple[int, int]], threads: list[int], rounds: int, budget_s: float = 0.2) -> list[dict]:
    """One row per shape, thread count and form: us per MatMul (median, min, max), ratio to uint8
    (median, min, max of the rounds' ratios), error against the exact Q4_1 product."""
    from tqdm import tqdm

    from edge.generator.measure import median_spread

    rows = []
    with tqdm(total=len(shapes) * len(threads) * rounds, desc="zero_points", unit="round") as bar:
        for k, n in shapes:
            codes, d, m = q41_blocks(n, k)
            exact = (codes * d[..., None] + m[..., None]).reshape(n, k).astype(np.float64)
            x = np.random.default_rng(1).standard_normal((1, k)).astype(np.float32)
            reference = x.astype(np.float64) @ exact.T
            built = {f: form_inputs(f, codes, d, m) for f in FORMS}
            for t in threads:
                sessions = {f: session(k, n, *built[f][:3], threads=t) for f in FORMS}
                errors = {f: float(np.abs(sessions[f].run(None, {"X": x})[0] - reference).max() / np.abs(reference).max())
                          for f in FORMS}
                first = time_us(sessions["uint8"], x, 5)
                repeats = max(3, int(budget_s / (first * NODES * 1e-6)))
                times: dict[str, list[float]] = {f: [] for f in FORMS}
                for r in range(rounds):
                    for f in (FORMS if r % 2 == 0 else FORMS[::-1]):
                        times[f].append(time_us(sessions[f], x, repeats if f != "float" else max(3, repeats // 50)))
                    bar.update()
                for f in FORMS:
                    rows.append({"shape": f"{k}x{n}", "threads": t, "form": f, "us": median_spread(times[f]),
                                 "ratio": median_spread([a / b for a, b in zip(times[f], times["uint8"])]),
                                 "error": errors[f]})
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| K x N | threads | zero points | us per MatMul | time vs uint8 | largest error vs exact Q4_1 |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        us, ratio = r["us"], r["ratio"]
        lines.append(f"| {r['shape']} | {r['threads']} | {r['form']} | {us[0]:.1f} ({us[1]:.1f}-{us[2]:.1f}) | "
                     f"{ratio[0]:.2f}x ({ratio[1]:.2f}-{ratio[2]:.2f}) | {r['error']:.1e} |")
    return "\n".join(lines)


def save_chart(rows: list[dict], path):
    from bench._chart import save_line_chart

    def draw(ax):
        labels = sorted({(r["shape"], r["threads"]) for r in rows}, key=lambda s: (s[1], s[0]))
        for i, form in enumerate(FORMS):
            mine = {(r["shape"], r["threads"]): r["ratio"][0] for r in rows if r["form"] == form}
            ax.bar([j + (i - 1) * 0.27 for j in range(len(labels))], [mine[s] for s in labels], width=0.27, label=form)
        ax.set_xticks(range(len(labels)), [f"{s} {t}t" for s, t in labels], fontsize=7, rotation=20)
        ax.set_yscale("log")
        ax.axhline(1.0, color="grey", lw=0.8)

    return save_line_chart(path, draw, "MatMulNBits shape (K x N), threads", "time per MatMul / uint8 zero points (log)",
                           "MatMulNBits int4 at accuracy level 4: zero-point forms", figsize=(8, 4.5))


def parse_shapes(parser, text: str) -> list[tuple[int, int]]:
    try:
        shapes = [tuple(int(v) for v in s.split("x")) for s in text.split(",") if s]
    except ValueError:
        shapes = []
    if not shapes or any(len(s) != 2 or s[0] % 32 or s[0] < 32 or s[1] < 1 for s in shapes):
        parser.error(f"--shapes takes KxN pairs with K a multiple of 32, e.g. {DEFAULT_SHAPES}; got {text}")
    if max(k * n for k, n in shapes) > MAX_WEIGHTS:
        parser.error(f"--shapes: at most {MAX_WEIGHTS:,} weights a matrix (a float64 copy of each is made), got {text}")
    return shapes


def main(args: list[str]) -> int:
    import json

    from bench._args import bench_parser, check_threads
    from common.atomic import atomic_write_text
    from common.paths import cache_dir

    parser = bench_parser("kllm bench zero_points")
    parser.add_argument("--shapes", default=DEFAULT_SHAPES, help=f"K x N of each MatMul (default {DEFAULT_SHAPES})")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args(args)
    shapes = parse_shapes(parser, opts.shapes)
    try:
        threads = [int(t) for t in opts.threads.split(",") if t]
    except ValueError:
        parser.error("--threads takes comma-separated integers")
    if not threads or min(threads) < 1 or opts.rounds < 1:
        parser.error("--threads and --rounds must be at least 1")
    check_threads(parser, threads)
    rows = measure(shapes, threads, opts.rounds)
    print(format_table(rows))
    slow = [r["ratio"][0] for r in rows if r["form"] == "float"]
    print(f"float zero points: exact Q4_1 (largest error {max(r['error'] for r in rows if r['form'] == 'float'):.1e}) "
          f"at {statistics.median(slow):.1f}x uint8's time (median over shapes and threads)")
    out = cache_dir("bench")
    seeds = {"weights": 0, "activations": 1}     # q41_blocks' default and measure()'s activations
    atomic_write_text(out / "zero_points.json", json.dumps({"rounds": opts.rounds, "seeds": seeds, "rows": rows}, indent=1))
    print(f"chart {save_chart(rows, out / 'zero_points.png')}")
    return 0
