"""Chat with the on-device causal LM (causal_lm.py's CausalLM): a turn at a time or a whole
conversation whose KV cache lives from turn to turn, each answer streamed as it comes. Copied to
the device as is, beside causal_lm.py and generate.py (whose --chat runs chat_lines); it takes the
model as an argument and imports nothing of theirs.

    chat = Conversation(lm, max_new_tokens=64)
    chat.ask("What is the capital of France?")            # -> answer token ids
    chat_lines(lm, sys.stdin, sys.stdout, max_new_tokens=64, history=True)
"""
from __future__ import annotations

import json
import sys
import time


class TextStream:
    """Writes a growing greedy decode's new text as it comes (an `on_token` for generate_ids),
    holding back a character whose UTF-8 bytes are not all out yet."""

    def __init__(self, lm, out):
        self.lm, self.out, self.shown = lm, out, 0

    def __call__(self, ids: list[int]) -> None:
        text = self.lm.decode(ids)
        if text.endswith("\ufffd"):
            return
        self.out.write(text[self.shown:])
        self.out.flush()
        self.shown = len(text)


class Conversation:
    """A chat whose KV cache lives from turn to turn: each question is prefilled after the tokens
    already in the cache (the earlier turns as the model read and wrote them), not the whole
    conversation again. The cache grows by doubling (a refill of what is in it).

        chat = Conversation(lm, max_new_tokens=64)
        chat.ask("What is the capital of France?")   # -> answer token ids
        chat.ask("And of Italy?")                    # after the first question and answer

    pick: each token's choice when not the argmax (lm_sampling.Sampler): its penalty counts the
    whole conversation, its n-gram ban each answer.
    """

    def __init__(self, lm, max_new_tokens: int = 64, system: str | None = None, pick=None):
        self.lm, self.max_new_tokens, self.pick = lm, max_new_tokens, pick
        self.turn = lm.chat_turn(conversation=True)
        self.prefix = lm.chat_prefix(system)
        self.fed: list[int] = []       # the token ids in the cache
        self.unfed: list[int] = []     # the last answer's last token, when it is not an end of turn
        self.capacity, self.step = 0, None

    def ask(self, message: str, on_token=None, timings: dict | None = None) -> list[int]:
        """The answer's token ids; `timings` (if given) gets prefill_s, decode_s and prefill_tokens
        (what this turn fed: the question, or the whole conversation when the cache grew), and
        history_dropped: True when the conversation would pass the model's context, so this
        question starts a new one."""
        start = time.perf_counter()
        opening = self.turn["between"] if self.fed else self.prefix
        new = self.unfed + self.lm.user_ids(opening, message)
        dropped = bool(self.fed) and not self.lm.fits(len(self.fed) + len(new), self.max_new_tokens)
        if dropped:
            alone = self.lm.user_ids(self.prefix, message)
            self.lm.check_fits(len(alone), self.max_new_tokens)    # a question too long keeps the conversation
            self.fed, self.unfed, self.capacity, new = [], [], 0, alone
        self.lm.check_fits(len(new), self.max_new_tokens)
        if len(self.fed) + len(new) + self.max_new_tokens > self.capacity:
            self.capacity = max(2 * self.capacity, len(self.fed) + len(new) + self.max_new_tokens)
            self.step = self.lm._decoder(self.capacity)
            new, self.fed = self.fed + new, []
        total = len(self.fed) + len(new)
        logits = self.step(new, total, last_only=True)
        prefilled = time.perf_counter()
        out = self.lm.next_tokens(self.step, logits, total, self.max_new_tokens, on_token=on_token,
                                  pick=self.pick, seen=self.fed + new)
        if timings is not None:
            timings.update(prefill_s=prefilled - start, decode_s=time.perf_counter() - prefilled,
                           prefill_tokens=len(new), history_dropped=dropped)
        self.fed += new + out[:-1]
        self.unfed = [] if out[-1] in self.lm.eos_ids else out[-1:]
        return out


def stats_line(tokens: list[int], timings: dict) -> str:
    """'[34 tokens: prefill 52 tokens in 61 ms, decode 118.2 tok/s]' for an answer and its timings
    (prefill_s, decode_s, prefill_tokens). The first token comes out of the prefill, so the decode
    rate counts the others, as `--bench` does."""
    prefill = f"prefill {timings['prefill_tokens']} tokens in {1e3 * timings['prefill_s']:.0f} ms"
    decode = (f", decode {(len(tokens) - 1) / timings['decode_s']:.1f} tok/s"
              if len(tokens) > 1 and timings["decode_s"] > 0 else "")
    return f"[{len(tokens)} tokens: {prefill}{decode}]"


def chat_lines(lm, stdin, out, max_new_tokens: int, as_json: bool = False, ask=None,
               history: bool = False, system: str | None = None, pick=None, stats=None, errors=None) -> int:
    """Answer every non-empty line of `stdin` as a chat turn, each on its own or (history) after the
    questions and answers before it, streaming each answer to `out` (or one JSON line each); `ask`
    (if given) is written before each read; `system`: a system message of one's own; `pick`: a
    lm_sampling.Sampler instead of the argmax; `stats` (if given): a stream that gets each
    answer's stats_line; a line the model cannot take (not UTF-8, too long for its context) is one
    `error: line N: ...` on `errors` (default stderr) and the next line is read. Returns (answered,
    refused): how many lines were answered and how many refused."""
    errors = errors or sys.stderr
    bad_input = getattr(lm, "InputError", ValueError)    # causal_lm.InputError, without importing it
    answered = refused = 0
    lm.chat_turn(conversation=history)       # a missing or single-turn chat.json stops before any answer
    lm.chat_prefix(system)                   # and so does one with no place for a system message
    if getattr(lm, "context_length", None) and max_new_tokens >= lm.context_length:
        lm.check_fits(1, max_new_tokens)     # a flag no line (of one token at least) can fit: said once
    conversation = Conversation(lm, max_new_tokens, system, pick) if history else None
    number = 0
    while True:
        if ask is not None:
            ask.write("> ")
            ask.flush()
        line = stdin.readline()
        number += 1
        if not line:
            if ask is not None:
                ask.write("\n")        # Ctrl-D at the prompt: the shell's prompt on a line of its own
            return answered, refused
        message = line.strip()
        if not message:
            continue
        stream, timings = (None if as_json else TextStream(lm, out)), {}
        try:
            lm.encode(message)     # the line alone first, so a bad byte's position is its place in the line
            if conversation is not None:
                tokens = conversation.ask(message, on_token=stream, timings=timings)
            else:
                ids = lm.chat_ids(message, system=system)
                tokens = lm.generate_ids(ids, max_new_tokens, on_token=stream, pick=pick, timings=timings)
                timings["prefill_tokens"] = len(ids)
        except bad_input as err:   # this line is refused; the chat and its history go on
            print(f"error: line {number}: {err}", file=errors)
            errors.flush()
            refused += 1
            continue
        if timings.get("history_dropped") and (stats or ask) is not None:
            (stats or ask).write(f"[earlier turns dropped: the conversation would pass the model's "
                                 f"{lm.context_length}-token context]\n")
        text = lm.decode(tokens)
        record = {"prompt": message, "tokens": tokens, "text": text}
        if conversation is not None:
            record["history_dropped"] = bool(timings.get("history_dropped"))
        out.write(json.dumps(record) + "\n" if as_json else text[stream.shown:] + "\n")
        out.flush()
        if stats is not None:
            stats.write(stats_line(tokens, timings) + "\n")
            stats.flush()
        answered += 1

