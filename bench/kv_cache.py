"""`kllm bench kv_cache`: what writing the KV cache in place buys the device's decode, in one run.

    make bench BENCH=kv_cache
    python -m cli bench kv_cache --variants fp32,int4 --contexts 16,300 --threads 2 --rounds 3

edge/runtime/generate.py decodes with one KV buffer bound as both past and present (the builder's
GroupQueryAttention writes the new position in place), where feeding each step's presents back
as the next past copies the whole cache every token. Per variant, context length and thread
count: greedy decode tok/s both ways (32 new tokens after a context of that many tokens), the
two interleaved round by round, and the in-place speed-up as the median of the rounds' ratios
(min-max). Also checks that both ways decode the same tokens. Writes a PNG chart beside the
study's (cache/generator/study/kv_cache.png).
"""
from __future__ import annotations

import statistics

NEW_TOKENS = 32


def decode_rate(lm, ids: list[int], shared: bool) -> tuple[float, list[int]]:
    lm.share_buffer = shared
    timings: dict = {}
    tokens = lm.generate_ids(ids, NEW_TOKENS, stop_at_eos=False, timings=timings)
    return (NEW_TOKENS - 1) / timings["decode_s"], tokens


def measure(folder, contexts: list[int], threads: list[int], rounds: int) -> list[dict]:
    from edge.runtime.causal_lm import CausalLM
    from edge.runtime.lm_measure import BENCH_PROMPT

    rows = []
    for n in threads:
        lm = CausalLM(folder, threads=n)
        if not lm.share_buffer:
            return []
        text_ids = lm.encode(BENCH_PROMPT)
        for context in contexts:
            ids = (text_ids * (context // len(text_ids) + 1))[:context]
            decode_rate(lm, ids, True)  # warm-up
            copied, shared, same = [], [], True
            for _ in range(rounds):
                rate_copy, tokens_copy = decode_rate(lm, ids, False)
                rate_shared, tokens_shared = decode_rate(lm, ids, True)
                copied.append(rate_copy)
                shared.append(rate_shared)
                same &= tokens_copy == tokens_shared
            ratios = [s / c for s, c in zip(shared, copied)]
            rows.append({"threads": n, "context": context, "copy_tok_s": statistics.median(copied),
                         "shared_tok_s": statistics.median(shared), "ratio": statistics.median(ratios),
                         "ratio_min": min(ratios), "ratio_max": max(ratios), "same_tokens": same})
    return rows


def save_chart(results: dict[str, list[dict]], path):
    from bench._chart import save_ratio_chart

    return save_ratio_chart(path, results, "context", "context tokens before decoding",
                            "decode tok/s, in place / copied (median, min-max)", "KV cache written in place vs copied each token")


def main(args: list[str]) -> int:
    from bench._args import bench_parser, check_context, variants_lengths_threads
    from common.paths import cache_dir
    from edge.generator.export import build_variant
    from edge.generator.variants import VARIANTS

    parser = bench_parser("kllm bench kv_cache")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--variants", default="fp32,int4,int4-q41-fold")
    parser.add_argument("--contexts", default="16,300,1000", help="context lengths in tokens (comma-separated)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args(args)
    names, contexts, threads = variants_lengths_threads(parser, opts, "contexts", VARIANTS)
    check_context(parser, opts.model, contexts, "--contexts", new_tokens=NEW_TOKENS)
    from tqdm import tqdm

    results = {}
    for name in tqdm(names, desc="kv cache", unit="variant"):
        results[name] = measure(build_variant(VARIANTS[name], opts.model), contexts, threads, opts.rounds)
    print(f"decode tok/s with the KV cache copied each token vs written in place ({opts.model}, {NEW_TOKENS} new "
          f"tokens, median of {opts.rounds} interleaved rounds; speed-up as the median of per-round ratios, min-max)")
    print("| variant | threads | context | copied tok/s | in place tok/s | speed-up | same tokens |")
    print("|---|---|---|---|---|---|---|")
    for name, rows in results.items():
        if not rows:
            print(f"| {name} | - | - | - | - | its genai_config.json does not share the KV buffer | - |")
        for r in rows:
            print(f"| {name} | {r['threads']} | {r['context']} | {r['copy_tok_s']:.1f} | {r['shared_tok_s']:.1f} | "
                  f"{r['ratio']:.2f}x ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) | {r['same_tokens']} |")
    print(f"chart {save_chart(results, cache_dir('generator') / 'study' / 'kv_cache.png')}")
    return 0
