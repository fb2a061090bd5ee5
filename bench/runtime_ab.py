"""`kllm bench runtime_ab`: the device runtime's greedy decode at another git revision against
this working tree, in one process, on the same exports.

    make bench BENCH=runtime_ab ARGS="--against HEAD~1"
    python -m cli bench runtime_ab --against 290bb35 --variants fp32,int4 --threads 2 --rounds 15

A change to the device runtime's decode loop (edge/runtime/causal_lm.py's CausalLM) saves tenths
of a millisecond a token, less than this machine's noise between processes. So both versions of
the file are loaded into one process (the revision's from `git show REV:edge/runtime/causal_lm.py`,
or generate.py at a revision from before the runtime was split), each with its own
onnxruntime session of one variant, and their decodes alternate round by round (the order flips
each round; both sessions are made afresh every two rounds, in alternating order). Per variant and thread count: ms a token for each (median of the rounds), the
speed-up as the median of the rounds' ratios (min-max), and whether both decode the same tokens
(a 64-token greedy continuation of a 16-token prompt, the study's decode protocol). Writes a PNG
(cache/bench/runtime_ab.png).
"""
from __future__ import annotations

import importlib.util
import statistics
import subprocess
import tempfile
from pathlib import Path

from common.errors import UserError
from edge.runtime.lm_measure import BENCH_PROMPT

RUNTIME = "edge/runtime/causal_lm.py"          # CausalLM, the decode loop
BEFORE_SPLIT = "edge/runtime/generate.py"      # where CausalLM lived until causal_lm.py (no siblings either)
NEW_TOKENS = 64


def load_runtime(source: Path, name: str):
    """The runtime module in `source`, loaded under `name` (it imports no sibling file)."""
    spec = importlib.util.spec_from_file_location(name, source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def runtime_at(rev: str, folder: Path) -> Path:
    """The file that defines CausalLM as it is at git revision `rev` (causal_lm.py, or generate.py
    before the split), written into `folder` as base-<its name>; a UserError if there is none."""
    root = Path(__file__).resolve().parents[1]
    try:
        known = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                               capture_output=True).returncode == 0
    except FileNotFoundError:
        raise UserError("--against needs git, which is not installed") from None
    if not known:
        raise UserError(f"--against {rev}: no such revision in {root}")
    for source in (RUNTIME, BEFORE_SPLIT):
        try:
            done = subprocess.run(["git", "-C", str(root), "show", f"{rev}:{source}"], capture_output=True)
        except FileNotFoundError:
            raise UserError("--against needs git, which is not installed") from None
        if done.returncode == 0 and done.stdout:
            path = folder / f"base-{Path(source).name}"
            path.write_bytes(done.stdout)
            return path
    raise UserError(f"--against {rev}: no {RUNTIME} (nor {BEFORE_SPLIT}) at that revision in {root}")


def decode_ms(lm, ids: list[int]) -> tuple[float, list[int]]:
    timings: dict = {}
    tokens = lm.generate_ids(ids, NEW_TOKENS, stop_at_eos=False, timings=timings)
    return timings["decode_s"] / (NEW_TOKENS - 1) * 1e3, tokens


def measure(folder: Path, runtimes: dict, threads: list[int], rounds: int) -> list[dict]:
    """runtimes: {"base": module, "new": module}. One row per thread count.

    The sessions are created afresh for every pair of rounds, in alternating order (base first,
    then new first), and within a pair each decodes first once: with identical code on both
    sides, sessions always created base first read fp32 1.03-1.10x faster for `new` (sessions 46-47;
    this order: 0.99-1.02x)."""
    rows = []
    for n in threads:
        ms: dict[str, list[float]] = {"base": [], "new": []}
        tokens: dict[str, list[int]] = {}
        for first in range(0, rounds, 2):
            order = ["base", "new"] if first % 4 == 0 else ["new", "base"]
            lms = {key: runtimes[key].CausalLM(folder, threads=n) for key in order}
            ids = lms["new"].encode(BENCH_PROMPT)[:16]
            for lm in lms.values():
                lm.generate_ids(ids, 8, stop_at_eos=False)   # warm-up
            for r in range(first, min(first + 2, rounds)):
                for key in (order if r % 2 == 0 else list(reversed(order))):
                    took, tokens[key] = decode_ms(lms[key], ids)
                    ms[key].append(took)
            del lms
        ratios = [b / a for b, a in zip(ms["base"], ms["new"])]
        rows.append({"threads": n, "base_ms": statistics.median(ms["base"]), "new_ms": statistics.median(ms["new"]),
                     "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
                     "same_tokens": tokens["base"] == tokens["new"]})
    return rows


def save_chart(results: dict[str, list[dict]], path, against: str):
    from bench._chart import save_line_chart

    def draw(ax):
        labels = [f"{name}, {r['threads']}t" for name, rows in results.items() for r in rows]
        values = [r["ratio"] for rows in results.values() for r in rows]
        low = [r["ratio"] - r["ratio_min"] for rows in results.values() for r in rows]
        high = [r["ratio_max"] - r["ratio"] for rows in results.values() for r in rows]
        ax.bar(labels, values, yerr=[low, high], capsize=4, label="median, min-max of rounds")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)

    return save_line_chart(path, draw, "variant, threads", f"decode speed-up over {against}",
                           f"Device runtime: working tree vs {against}")


def main(args: list[str]) -> int:
    from bench._args import bench_parser, variants_lengths_threads
    from common.paths import cache_dir
    from edge.generator.export import build_variant
    from edge.generator.measure import cpu_summary
    from edge.generator.variants import VARIANTS

    parser = bench_parser("kllm bench runtime_ab")
    parser.add_argument("--against", required=True, help="git revision whose causal LM runtime (causal_lm.py; generate.py before the split) is the base, e.g. HEAD~1")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--variants", default="fp32,int4,int4-q41-fold")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--rounds", type=int, default=15)
    opts = parser.parse_args(args)
    names, _, threads = variants_lengths_threads(parser, opts, None, VARIANTS)
    from tqdm import tqdm

    with tempfile.TemporaryDirectory() as tmp:
        base = runtime_at(opts.against, Path(tmp))
        runtimes = {"base": load_runtime(base, "runtime_base"),
                    "new": load_runtime(Path(__file__).resolve().parents[1] / RUNTIME, "runtime_new")}
        results = {name: measure(build_variant(VARIANTS[name], opts.model), runtimes, threads, opts.rounds)
                   for name in tqdm(names, desc="runtime a/b", unit="variant")}
    print(f"greedy decode, ms a token: {Path(RUNTIME).parent / base.name.removeprefix('base-')} at {opts.against} "
          f"(base) vs {RUNTIME} in the working tree (new), one process, "
          f"{NEW_TOKENS} new tokens, {opts.rounds} alternating rounds, sessions made afresh every 2 in alternating order; speed-up = median of per-round base/new (min-max); "
          f"{cpu_summary()}")
    print("| variant | threads | base ms/token | new ms/token | speed-up | same tokens |")
    print("|---|---|---|---|---|---|")
    for name, rows in results.items():
        for r in rows:
            print(f"| {name} | {r['threads']} | {r['base_ms']:.2f} | {r['new_ms']:.2f} | "
                  f"{r['ratio']:.3f}x ({r['ratio_min']:.3f}-{r['ratio_max']:.3f}) | {r['same_tokens']} |")
    print(f"chart {save_chart(results, cache_dir('bench') / 'runtime_ab.png', opts.against)}")
    return 0
