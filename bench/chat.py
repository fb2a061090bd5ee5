"""`kllm bench chat`: do the compressed variants still answer a chat like fp32? Free-running greedy
answers to fixed chat prompts, each compared token by token with ONNX fp32's.

    make bench BENCH=chat
    python -m cli bench chat --variants fp32,int8,int4-q41-fold,int4 --max-new-tokens 64 --threads 2

Every variant answers the same PROMPTS in the model's chat turn (edge/generator/chat.py) with the
device runtime (edge/runtime/generate.py, as `make chat` does). Per variant: answers identical to
fp32's, answers whose first token is fp32's, and how much of fp32's answer it repeats before its
first different token (the median share, min-max). A greedy answer follows its first different
token wherever it leads, so one near-tie decides a whole answer: the study's test of intactness is
the teacher-forced agreement (`BENCH=quant`), and this table shows what a user of `make chat` sees.
Table, answers in cache/bench/chat.json, chart chat.png beside it.
"""
from __future__ import annotations

import json
import statistics

PROMPTS = (
    "What is the capital of France?", "Give me three tips for staying healthy.", "What is photosynthesis?",
    "Name a planet.", "Write a haiku about the sea.", "How many legs does a spider have?", "Why is the sky blue?",
    'Translate "good morning" into Spanish.', "What is the boiling point of water?",
    "Explain what a computer virus is.", "Who wrote Romeo and Juliet?", "What causes the seasons on Earth?",
    "Suggest a name for a pet cat.", "What is 12 times 12?", "Describe a rainbow in one sentence.",
    "What is the largest ocean?", "How do bees make honey?", "Give me a synonym for happy.",
    "What is gravity?", "Write one sentence about autumn.", "What do plants need to grow?",
    "How does a refrigerator keep food cold?", "What is the difference between weather and climate?",
    "Tell me a fun fact about octopuses.",
)


def shared_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens two answers share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def compare(answers: dict[str, list[list[int]]]) -> list[dict]:
    """Per variant: identical, same first token, and the share of fp32's answer repeated (median, min-max)."""
    ref, rows = answers["fp32"], []
    for name, mine in answers.items():
        shares = [shared_prefix(a, r) / max(len(r), 1) for a, r in zip(mine, ref)]
        rows.append({"variant": name, "prompts": len(ref), "identical": sum(a == r for a, r in zip(mine, ref)),
                     "first_token": sum(a[:1] == r[:1] for a, r in zip(mine, ref)),
                     "share": (statistics.median(shares), min(shares), max(shares)), "shares": shares})
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| variant | identical to fp32 | first token fp32's | share of fp32's answer before the first "
             "different token: median (min-max) |", "|---|---|---|---|"]
    for r in rows:
        m, lo, hi = r["share"]
        lines.append(f"| {r['variant']} | {r['identical']} of {r['prompts']} | {r['first_token']} of {r['prompts']} | "
                     f"{m:.2f} ({lo:.2f}-{hi:.2f}) |")
    return "\n".join(lines)


def save_chart(rows: list[dict], path):
    from bench._chart import save_line_chart

    def draw(ax):
        for r in rows:
            shares = sorted(r["shares"], reverse=True)
            ax.step(range(1, len(shares) + 1), shares, where="mid", label=f"{r['variant']} ({r['identical']} identical)")

    return save_line_chart(path, draw, "prompts, sorted by share", "share of fp32's answer before the first "
                           "different token", "Greedy chat answers against ONNX fp32")


def main(args: list[str]) -> int:
    from tqdm import tqdm

    from bench._args import bench_parser, check_context, check_threads, variant_names
    from common.atomic import atomic_write_text
    from common.paths import cache_dir
    from edge.generator.export import build_variant
    from edge.generator.measure import cpu_summary
    from edge.generator.variants import VARIANTS
    from edge.runtime.causal_lm import CausalLM

    parser = bench_parser("kllm bench chat")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--variants", default="fp32,int8,int4-q41-fold,int4")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args(args)
    names = variant_names(parser, opts.variants, VARIANTS, first="fp32")
    if opts.max_new_tokens < 1 or opts.threads < 1:
        parser.error("--max-new-tokens and --threads must be at least 1")
    check_threads(parser, [opts.threads])
    check_context(parser, opts.model, [opts.max_new_tokens], "--max-new-tokens")
    answers, texts = {}, {}
    for name in tqdm(names, desc="chat", unit="variant"):
        lm = CausalLM(build_variant(VARIANTS[name], opts.model), opts.threads)
        answers[name] = [lm.generate_ids(lm.chat_ids(p), opts.max_new_tokens) for p in PROMPTS]
        texts[name] = [lm.decode(a) for a in answers[name]]
    rows = compare(answers)
    print(f"greedy chat answers of {len(PROMPTS)} prompts ({opts.model}, at most {opts.max_new_tokens} new tokens, "
          f"{cpu_summary()}), each against ONNX fp32's")
    print(format_table(rows))
    out = cache_dir("bench")
    atomic_write_text(out / "chat.json", json.dumps({"prompts": PROMPTS, "rows": rows, "answers": texts,
                                                     "max_new_tokens": opts.max_new_tokens}, indent=1))
    print(f"answers {out / 'chat.json'}")
    print(f"chart {save_chart(rows, out / 'chat.png')}")
    return 0
