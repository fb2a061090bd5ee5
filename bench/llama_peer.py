"""`kllm bench llama_peer`: llama.cpp beside our ONNX runtime on the same SmolLM2 weights (opt-in).

    pip install -e .[llama]                      # llama-cpp-python from source: several minutes
    make bench BENCH=llama_peer                  # ~10 min: quality of 3 GGUF files, 3 speed rounds
    python -m cli bench llama_peer --eval-tokens 4096 --rounds 1

Rows: the zoo's own GGUF Q4_1 file run by llama.cpp, and the Q8_0 and F32 files llama.cpp's
quantizer derives from it (edge/generator/llama_peer.py); beside them our runtime
(edge/runtime/generate.py) on the compression study's ONNX exports (--onnx). Quality is
teacher-forced on the study's held-out windows (perplexity; agreement: the share of positions
whose argmax equals ONNX fp32's, the study's cached reference). Speed: the same 16-token prompt,
a 64-token greedy continuation and a ~300-token prefill, every row once per round, rounds
interleaved; ratios are per round against ONNX fp32, the median with the min-max.
"""
from __future__ import annotations

ONNX_ROWS = "fp32,int8,int4,int4-q41,int4-q41-fold"


def main(args: list[str]) -> int:
    import statistics

    from bench._args import bench_parser, note_short_text
    from bench.quant import held_out_texts
    from common.errors import UserError
    from common.models import causal_lm_source
    from edge.generator.calibrate import token_windows
    from edge.generator.export import build_variant, size_mb
    from edge.generator.llama_peer import check_decodes, gguf_variants, llama_bench, llama_teacher_forced
    from edge.generator.measure import runtime_bench
    from edge.generator.quality import compare, teacher_forced
    from edge.generator.study import StudyConfig
    from edge.generator.variants import VARIANTS
    from edge.runtime.causal_lm import CausalLM
    from edge.runtime.lm_measure import BENCH_PROMPT

    parser = bench_parser("kllm bench llama_peer")
    parser.add_argument("--eval-tokens", type=int, default=20480)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--onnx", default=ONNX_ROWS, help="comma-separated ONNX variants (fp32 first)")
    opts = parser.parse_args(args)
    names = [n for n in opts.onnx.split(",") if n]
    if not names or names[0] != "fp32" or any(n not in VARIANTS for n in names):
        raise UserError(f"kllm bench llama_peer: --onnx must start with fp32 and name only {', '.join(VARIANTS)}")
    if opts.rounds < 1 or opts.eval_tokens < 64:
        parser.error("--rounds must be at least 1 and --eval-tokens at least 64")
    files = gguf_variants(causal_lm_source("smollm2"))
    check_decodes(files["llama.cpp q4_1"])
    folders = {n: build_variant(VARIANTS[n]) for n in names}
    lm = CausalLM(folders["fp32"])
    windows = token_windows(lm.encode, held_out_texts(), opts.eval_tokens)
    note_short_text(windows, opts.eval_tokens, "--eval-tokens")
    ref = teacher_forced(folders["fp32"], windows)
    quality = {**{n: teacher_forced(folders[n], windows) for n in names},
               **{n: llama_teacher_forced(f, windows) for n, f in files.items()}}
    config = StudyConfig()
    prompt = (lm.encode(BENCH_PROMPT) * (config.prompt_tokens // 8 + 1))[: config.prompt_tokens]
    speed = {n: [] for n in [*names, *files]}
    for r in range(opts.rounds):
        for n in names:
            speed[n].append(runtime_bench(folders[n], config))
        for n, f in files.items():
            speed[n].append(llama_bench(f, prompt, config.threads, config.new_tokens))
        print(f"round {r + 1}/{opts.rounds} done", flush=True)

    def rate(run, threads):
        return next(x for x in run["rows"] if x["threads"] == threads)["decode_tok_s"][0]

    t1, t2 = min(config.threads), max(config.threads)
    print(f"llama.cpp peer: SmolLM2-135M, {len(ref['nll'])} held-out tokens (prompt-recovery sample passages), "
          f"decode of {config.new_tokens} tokens, median of {opts.rounds} rounds (min-max), this CPU")
    print(f"| runtime / weights | size MB | decode tok/s {t1}t | decode tok/s {t2}t | decode vs ONNX fp32 ({t2}t) | "
          f"prefill tok/s ({t2}t) | perplexity | agreement |")
    print("|---|---|---|---|---|---|---|---|")
    for n in speed:
        size = size_mb(folders[n]) if n in folders else files[n].stat().st_size / 1e6
        cells = []
        for t in (t1, t2):
            v = [rate(run, t) for run in speed[n]]
            cells.append(f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})")
        ratio = [rate(run, t2) / rate(fp, t2) for run, fp in zip(speed[n], speed["fp32"])]
        prefill = statistics.median(next(x for x in run["rows"] if x["threads"] == t2)["prefill_tok_s"][0]
                                    for run in speed[n])
        q = compare(quality[n], ref)
        label = n if n.startswith("llama.cpp") else f"onnx {n}"
        print(f"| {label} | {size:.0f} | {cells[0]} | {cells[1]} | {statistics.median(ratio):.2f}x "
              f"({min(ratio):.2f}-{max(ratio):.2f}) | {prefill:.0f} | {q['perplexity']:.2f} | {q['agreement']:.3f} |")
    return 0
