"""`kllm bench chat_history`: what keeping the KV cache between chat turns buys (`make chat
ARGS=--history`). One conversation of fixed questions, answered two ways by the device runtime
(edge/runtime/generate.py) in alternating rounds:

- refill: every question after the whole conversation re-rendered from its texts and prefilled
  again (chat_ids with the earlier questions and answers: how `--history` worked before);
- cached: `Conversation`, each question prefilled after the tokens already in the cache.

    make bench BENCH=chat_history
    python -m cli bench chat_history --variant int4-q41-fold --turns 12 --rounds 3 --threads 2

Prints per round each way's time for the whole conversation and the ratio refill / cached
(median of the rounds, min-max), the last turn's times (where the conversation is longest), and
how many answers the two ways share token for token (they may part where an answer's tokens
re-encode differently from its text, or where a prefill's sums round differently from a decode's
at a near-tie). Table, times in cache/bench/chat_history.json, chart chat_history.png beside it.
"""
from __future__ import annotations

import json
import time

from bench.chat import PROMPTS


def refill_conversation(lm, questions: list[str], max_new_tokens: int) -> tuple[list[list[int]], list[float]]:
    """(answers, seconds per turn): each turn prefills the whole conversation rendered from its texts."""
    answers, seconds, history = [], [], []
    for question in questions:
        start = time.perf_counter()
        tokens = lm.generate_ids(lm.chat_ids(question, history), max_new_tokens)
        seconds.append(time.perf_counter() - start)
        answers.append(tokens)
        history.append((question, lm.decode(tokens)))
    return answers, seconds


def cached_conversation(lm, questions: list[str], max_new_tokens: int) -> tuple[list[list[int]], list[float]]:
    """(answers, seconds per turn): one Conversation, its KV cache kept from turn to turn."""
    from edge.runtime.lm_chat import Conversation

    chat, answers, seconds = Conversation(lm, max_new_tokens), [], []
    for question in questions:
        start = time.perf_counter()
        answers.append(chat.ask(question))
        seconds.append(time.perf_counter() - start)
    return answers, seconds


WAYS = {"refill": refill_conversation, "cached": cached_conversation}


def summarize(rounds: list[dict[str, list[float]]]) -> dict:
    """rounds: [{way: seconds per turn}] -> per way the conversation's and the last turn's median
    (min-max) seconds, and the ratios refill / cached of each round's totals and last turns."""
    from edge.generator.measure import median_spread

    out = {way: {"total": median_spread([sum(r[way]) for r in rounds]),
                 "last": median_spread([r[way][-1] for r in rounds])} for way in WAYS}
    out["ratio_total"] = median_spread([sum(r["refill"]) / sum(r["cached"]) for r in rounds])
    out["ratio_last"] = median_spread([r["refill"][-1] / r["cached"][-1] for r in rounds])
    return out


def format_table(summary: dict, turns: int, identical: int) -> str:
    def cell(t):
        return f"{t[0]:.2f} ({t[1]:.2f}-{t[2]:.2f})"

    lines = [f"| way | {turns} turns, s: median (min-max) | last turn, s | answers identical to refill's |",
             "|---|---|---|---|",
             f"| refill (re-prefill the conversation) | {cell(summary['refill']['total'])} | "
             f"{cell(summary['refill']['last'])} | {turns} of {turns} |",
             f"| cached (`Conversation`) | {cell(summary['cached']['total'])} | {cell(summary['cached']['last'])} | "
             f"{identical} of {turns} |",
             f"| **refill / cached** | **{cell(summary['ratio_total'])}x** | {cell(summary['ratio_last'])}x | |"]
    return "\n".join(lines)


def save_chart(rounds: list[dict[str, list[float]]], path):
    from bench._chart import save_line_chart

    def draw(ax):
        for way in WAYS:
            for i, r in enumerate(rounds):
                ax.plot(range(1, len(r[way]) + 1), r[way], marker="o", ms=3, color="C0" if way == "refill" else "C1",
                        alpha=0.8, label=way if i == 0 else None)

    return save_line_chart(path, draw, "turn", "seconds for the turn", "One conversation: refill against kept KV cache")


def main(args: list[str]) -> int:
    from tqdm import tqdm

    from bench._args import bench_parser, check_context, check_threads
    from common.atomic import atomic_write_text
    from common.paths import cache_dir
    from edge.generator.export import build_variant
    from edge.generator.measure import cpu_summary
    from edge.generator.variants import VARIANTS
    from edge.runtime.causal_lm import CausalLM

    parser = bench_parser("kllm bench chat_history")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--variant", default="int4-q41-fold")
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args(args)
    if opts.variant not in VARIANTS:
        parser.error(f"--variant names one of {', '.join(VARIANTS)}; got {opts.variant}")
    if min(opts.turns, opts.rounds, opts.max_new_tokens, opts.threads) < 1:
        parser.error("--turns, --rounds, --max-new-tokens and --threads must be at least 1")
    if opts.turns > len(PROMPTS):
        parser.error(f"--turns is at most {len(PROMPTS)} (bench/chat.py's prompts)")
    check_threads(parser, [opts.threads])
    check_context(parser, opts.model, [opts.max_new_tokens], "--max-new-tokens")
    questions = list(PROMPTS[:opts.turns])
    lm = CausalLM(build_variant(VARIANTS[opts.variant], opts.model), opts.threads)
    lm.chat_turn(conversation=True)
    rounds, answers = [], {}
    with tqdm(total=opts.rounds * len(WAYS), desc="chat_history", unit="conversation") as bar:
        for i in range(opts.rounds):
            timed = {}
            for way in (WAYS if i % 2 == 0 else reversed(list(WAYS))):   # alternate which goes first
                answers[way], timed[way] = WAYS[way](lm, questions, opts.max_new_tokens)
                bar.update()
            rounds.append(timed)
    summary = summarize(rounds)
    identical = sum(a == b for a, b in zip(answers["refill"], answers["cached"]))
    fed = len(lm.chat_ids(questions[-1], [(q, lm.decode(a)) for q, a in zip(questions[:-1], answers["refill"][:-1])]))
    print(f"one conversation of {opts.turns} questions ({opts.model} {opts.variant}, at most {opts.max_new_tokens} new "
          f"tokens a turn, {opts.threads} threads, {opts.rounds} rounds, {cpu_summary()}); the last question is "
          f"prefilled after {fed} tokens by refill")
    print(format_table(summary, opts.turns, identical))
    out = cache_dir("bench")
    atomic_write_text(out / "chat_history.json", json.dumps(
        {"variant": opts.variant, "questions": questions, "rounds": rounds, "summary": summary,
         "identical": identical, "answers": {w: [lm.decode(a) for a in answers[w]] for w in WAYS}}, indent=1))
    print(f"times {out / 'chat_history.json'}")
    print(f"chart {save_chart(rounds, out / 'chat_history.png')}")
    return 0
