"""`kllm bench llm [--model NAME] [--convert]`: speed of the local LLM stack in one run:
GGUF conversion (with --convert), reload, generation tokens/s at batch 1 and 8, and scoring five
answer options with and without the shared-prefix KV cache (the ratio is what the cache buys).

    make bench BENCH=llm
    python -m cli bench llm --model smollm2 --convert
"""
from __future__ import annotations


def main(args: list[str]) -> int:
    from bench._args import bench_parser
    from common.llm.bench import bench_llm, format_rows, save_chart
    from common.paths import results_path

    parser = bench_parser("kllm bench llm")
    parser.add_argument("--model", default="smollm2", help="causal LM name from common.models or a local folder")
    parser.add_argument("--convert", action="store_true", help="also time the GGUF -> safetensors conversion")
    parser.add_argument("--tokens", type=int, default=32, help="new tokens per generated prompt")
    opts = parser.parse_args(args)
    if opts.tokens < 1:
        parser.error("--tokens must be at least 1")
    rows = bench_llm(opts.model, convert=opts.convert, max_new_tokens=opts.tokens)
    print(f"local LLM speed: {opts.model}, this CPU, torch threads from KLLM_THREADS (default: all cores)")
    print(format_rows(rows))
    on = next(r for r in rows if r["step"] == "score 5 options, prefix cache on")
    print(f"prefix cache speed-up: {on['speedup']:.1f}x ({on['speedup_min']:.1f}-{on['speedup_max']:.1f}; median of "
          f"{on['rounds']} interleaved rounds), max |score difference| {on.get('max_abs_diff', 0.0):.1e}")
    print(f"chart: {save_chart(rows, results_path().parent / 'bench_llm.png')}")
    return 0
