"""The on-device causal LM: greedy generation and continuation scoring. Copied to the device as is.

Imports only onnxruntime, tokenizers, numpy and the standard library (onnxruntime-genai is used
for generation when installed and asked for with --backend genai). It reads a model folder made by
onnxruntime-genai's model builder (edge/generator/export.py): genai_config.json, model.onnx (+
model.onnx.data) with a KV cache, tokenizer.json.

    python3 generate.py --model MODEL_DIR --prompt "The Roman Empire" --max-new-tokens 64
    python3 generate.py --model MODEL_DIR --chat --prompt "What is the capital of France?"
    python3 generate.py --model MODEL_DIR --chat          # one question a line on stdin, answers streamed
    python3 generate.py --model MODEL_DIR --chat --history   # the same, each question after the ones before
    python3 generate.py --model MODEL_DIR --chat --system "Answer in one word."   # a system message of one's own
    python3 generate.py --model MODEL_DIR --score --context "Q: 2+2? A:" --continuation " 4" --json
    python3 generate.py --model MODEL_DIR --self-test      # smoke.json's prompt vs the host's tokens
    python3 generate.py --model MODEL_DIR --bench --bench-threads 1,2 --json   # prefill/decode tok/s
    python3 generate.py --model MODEL_DIR --teacher-forced windows.json     # per-token NLL and argmax
    python3 generate.py --model MODEL_DIR --teacher-forced windows.json --decode-steps   # one token a step
    python3 generate.py --bandwidth --bench-threads 1,4       # GB/s read at each thread count (no model)

Generation is greedy (argmax). --chat puts each prompt in the model's own chat turn (chat.json
beside the model, rendered from its template on the host: edge/generator/chat.py), one turn per
question (with --history, after the earlier questions and answers, kept in the KV cache from
turn to turn: `Conversation`); without it the prompt is
continued as plain text, and an instruction-tuned model may end at once on a bare question.
Scoring returns log p(continuation | context), summed and per
token, teacher-forced in one forward pass. A model with a `logits_from` input (an overridable
initializer: edge/generator/logits_from.py) computes logits only from that position on, so a
prompt's prefill skips the LM head for every position but the last; other models return them all.
Bad input prints one `error:` line and exits 2.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

EMULATED_NOTE = "emulated under qemu: these timings say nothing about Raspberry Pi speed"
LOGITS_FROM = "logits_from"  # edge/generator/logits_from.py
CHAT_FILE = "chat.json"  # edge/generator/chat.py
BENCH_PROMPT = ("Photosynthesis is the process by which green plants, algae and some bacteria convert light "
                "energy into chemical energy. It takes place mainly in the chloroplasts of leaf cells. ")


class InputError(Exception):
    """Bad input; main() prints it as one line and exits with code 2."""


class OneLineParser(argparse.ArgumentParser):
    """A bad flag is one `error:` line on stderr and exit code 2, as bad input is (no usage block)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # a flag's prefix is an error, never that flag
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64 (..., V)."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


class CausalLM:
    """A builder-exported decoder with its KV cache, run by onnxruntime alone.

        lm = CausalLM(Path("model"), threads=1)
        lm.generate_ids(lm.encode("Hello"), max_new_tokens=16)   # -> greedy token ids
        lm.score("Q: capital of France? A:", " Paris")          # -> (total logprob, per-token)
        lm.continuation_scores("Q: capital of France? A:", [" Paris", " Rome"])   # -> mean logprob each
        lm.forward(ids)                                        # -> logits (T, V), teacher-forced
    """

    def __init__(self, folder: Path, threads: int = 1):
        self.folder = Path(folder)
        try:
            genai_config = json.loads((self.folder / "genai_config.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"no genai_config.json in {folder}: not a model folder") from None
        config, decoder = genai_config["model"], genai_config["model"]["decoder"]
        # the builder's GroupQueryAttention can write the new keys/values into the past's own buffer
        self.share_buffer = bool(genai_config.get("search", {}).get("past_present_share_buffer", False))
        self.eos_ids = set(np.atleast_1d(config.get("eos_token_id", [])).tolist())
        self.kv_heads, self.head_size = int(decoder["num_key_value_heads"]), int(decoder["head_size"])
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.threads = threads
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: onnxruntime warns of every overridable initializer (logits_from)
        self.session = ort.InferenceSession(str(self.folder / decoder.get("filename", "model.onnx")), options,
                                            providers=["CPUExecutionProvider"])
        self.past_names = [i.name for i in self.session.get_inputs() if i.name.startswith("past_key_values.")]
        self.output_names = [o.name for o in self.session.get_outputs()]  # logits, present.* (keys, then values)
        self.kv_dtype = np.float16 if "float16" in self.session.get_inputs()[2].type else np.float32
        self.logits_from = LOGITS_FROM in {i.name for i in self.session.get_overridable_initializers()}
        self._chat: dict | None = None    # chat.json, read on the first chat turn

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(list(ids))

    def chat_turn(self, conversation: bool = False) -> dict:
        """chat.json's pieces of a turn (read once); InputError when it is missing, or
        (conversation) when it cannot continue a conversation."""
        if self._chat is None:
            try:
                self._chat = json.loads((self.folder / CHAT_FILE).read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise InputError(f"no {CHAT_FILE} in {self.folder}: the model has no chat template, or its folder "
                                 f"was copied without it (edge/generator/chat.py writes it)") from None
        turn = self._chat
        if conversation and "between" not in turn:
            raise InputError(f"{CHAT_FILE} in {self.folder} has no turn for a conversation: answer without --history")
        return turn

    def chat_prefix(self, system: str | None = None) -> str:
        """What goes before the first user message: the template's own (with its default system
        message, if it has one), or around `system` (InputError when chat.json has no place for one)."""
        turn = self.chat_turn()
        if system is None:
            return turn["prefix"]
        if "system" not in turn:
            raise InputError(f"{CHAT_FILE} in {self.folder} has no system message: the model's template takes "
                             f"none, or the file predates --system (export the variant again)")
        return turn["system"]["before"] + system + turn["system"]["after"]

    def chat_ids(self, message: str, history: list[tuple[str, str]] = (), system: str | None = None) -> list[int]:
        """The token ids of `message` as a user turn, after the (message, answer) turns of
        `history`, up to the assistant's opening (chat.json); `system`: a system message of one's own."""
        if not message.strip():
            raise InputError("empty message")
        turn = self.chat_turn(conversation=bool(history))
        text = self.chat_prefix(system)
        for asked, answered in history:
            text += asked + turn["suffix"] + answered + turn["between"]
        return self.encode(text + message + turn["suffix"])

    def _empty_past(self) -> dict[str, np.ndarray]:
        shape = (1, self.kv_heads, 0, self.head_size)  # (B, kv heads, past T, head size)
        return {name: np.zeros(shape, self.kv_dtype) for name in self.past_names}

    def _step(self, ids: list[int], past: dict[str, np.ndarray], total: int, logits_from: int = 0):
        """(logits, presents as the next past). logits (T, V), or (T - logits_from, V) from position
        logits_from of `ids` on when the model can skip the others (self.logits_from): read them
        from the end."""
        feeds = {"input_ids": np.asarray([ids], dtype=np.int64),
                 "attention_mask": np.ones((1, total), dtype=np.int64), **past}
        if self.logits_from and logits_from:
            feeds[LOGITS_FROM] = np.asarray([logits_from], dtype=np.int64)
        logits, *presents = self.session.run(self.output_names, feeds)
        past = {name.replace("present", "past_key_values", 1): value
                for name, value in zip(self.output_names[1:], presents)}
        return logits[0], past

    def _decoder(self, capacity: int):
        """step(ids, total, last_only=False) -> logits (T, V), or (1, V) with last_only on a model
        that can skip the rest (self.logits_from), each call continuing one KV cache. With a shared
        buffer the cache is allocated once for `capacity` positions and bound as both past and
        present, so attention writes the new positions in place; else each step's presents come
        back as numpy arrays and go in as the next past (a copy of the whole cache per token)."""
        if not self.share_buffer:
            past = self._empty_past()

            def step(ids: list[int], total: int, last_only: bool = False) -> np.ndarray:
                nonlocal past
                logits, past = self._step(ids, past, total, len(ids) - 1 if last_only else 0)
                return logits
            return step
        binding = self.session.io_binding()
        binding.bind_output(self.output_names[0], "cpu")  # bound first, so get_outputs()[0]
        caches = {name: np.zeros((1, self.kv_heads, capacity, self.head_size), self.kv_dtype)
                  for name in self.past_names}
        for name, cache in caches.items():  # the binding keeps each OrtValue, which keeps its numpy buffer
            value = ort.OrtValue.ortvalue_from_numpy(cache)
            binding.bind_ortvalue_input(name, value)
            binding.bind_ortvalue_output(name.replace("past_key_values", "present", 1), value)
        # A one-token step allocates nothing: its token, the mask (a view of `mask`) and its logits
        # live in numpy buffers the binding reads and writes in place (decode 2-5% faster on x86:
        # `make bench BENCH=runtime_ab`).
        mask = np.ones((1, capacity), dtype=np.int64)
        token = np.zeros((1, 1), dtype=np.int64)
        one: dict = {}   # made at the first one-token step: "logits" (1, 1, V) buffer, "bound" and "token" OrtValues

        def step(ids: list[int], total: int, last_only: bool = False) -> np.ndarray:
            if last_only and self.logits_from and total == len(ids):
                # an io binding cannot feed an overridable initializer: the prompt runs unbound and
                # its keys/values are copied into the bound cache (once, T positions)
                logits, presents = self._step(ids, self._empty_past(), total, len(ids) - 1)
                for name, value in presents.items():
                    caches[name][:, :, :total] = value
                return logits
            binding.bind_ortvalue_input("attention_mask", ort.OrtValue.ortvalue_from_numpy(mask[:, :total]))
            if len(ids) == 1 and "logits" in one:
                token[0, 0] = ids[0]
                binding.bind_ortvalue_input("input_ids", one["token"])
                binding.bind_ortvalue_output(self.output_names[0], one["bound"])
                self.session.run_with_iobinding(binding)
                return one["logits"][0].copy()
            binding.bind_cpu_input("input_ids", np.asarray([ids], dtype=np.int64))
            binding.bind_output(self.output_names[0], "cpu")  # the logits' shape changes after the prompt
            self.session.run_with_iobinding(binding)
            logits = binding.get_outputs()[0].numpy()
            if len(ids) == 1:   # the first one-token step: its logits' shape and type make the buffer
                one.update(logits=np.empty_like(logits), token=ort.OrtValue.ortvalue_from_numpy(token))
                one["bound"] = ort.OrtValue.ortvalue_from_numpy(one["logits"])
            return logits[0]
        return step

    def forward(self, ids: list[int]) -> np.ndarray:
        """Teacher-forced logits (T, V) of `ids` from an empty cache."""
        if not ids:
            raise InputError("no tokens to score")
        logits, _ = self._step(list(ids), self._empty_past(), len(ids))
        return logits

    def score(self, context: str, continuation: str) -> tuple[float, list[float]]:
        """(sum, per-token) log p(continuation | context); context and continuation tokenized apart."""
        ctx, cont = self.encode(context), self.encode(continuation)
        if not ctx or not cont:
            raise InputError("context and continuation must both be non-empty")
        logits, _ = self._step(ctx + cont, self._empty_past(), len(ctx) + len(cont), logits_from=len(ctx) - 1)
        logp = log_softmax(logits[-len(cont) - 1:-1])                                   # (len(cont), V)
        per_token = logp[np.arange(len(cont)), np.asarray(cont)]
        return float(per_token.sum()), [float(x) for x in per_token]

    def continuation_scores(self, prefix: str, continuations: list[str], norm: str = "mean") -> list[float]:
        """Mean (norm "mean") or total token log-likelihood of each continuation after `prefix`; the
        prefix runs once and every continuation continues its KV cache.

            lm.continuation_scores("Question: Which gas do plants take in?\nAnswer:", [" oxygen", " carbon dioxide"])
        """
        ids = self.encode(prefix)
        if not ids:
            raise InputError("the prefix must be non-empty")
        logits, past = self._step(ids, self._empty_past(), len(ids), logits_from=len(ids) - 1)  # the last row at least
        first = log_softmax(logits[-1])                                                          # (V,)
        out = []
        for text in continuations:
            cont = self.encode(text)
            if not cont:
                raise InputError("every continuation must be non-empty")
            lp = [first[cont[0]]]
            if len(cont) > 1:
                more, _ = self._step(cont, past, len(ids) + len(cont))                           # (Tc, V)
                lp.extend(log_softmax(more[:-1])[np.arange(len(cont) - 1), cont[1:]])
            total = float(np.sum(lp))
            out.append(total / len(cont) if norm == "mean" else total)
        return out

    def generate_ids(self, prompt_ids: list[int], max_new_tokens: int, stop_at_eos: bool = True,
                     timings: dict | None = None, on_token=None) -> list[int]:
        """Greedy continuation of `prompt_ids`; `timings` (if given) gets prefill_s and decode_s;
        `on_token(ids so far)` is called after each new token (not for an end-of-sequence one)."""
        if not prompt_ids:
            raise InputError("empty prompt")
        start = time.perf_counter()
        step = self._decoder(len(prompt_ids) + max_new_tokens)
        logits = step(list(prompt_ids), len(prompt_ids), last_only=True)
        prefill_done = time.perf_counter()
        out = self.greedy(step, logits, len(prompt_ids), max_new_tokens, stop_at_eos, on_token)
        if timings is not None:
            timings.update(prefill_s=prefill_done - start, decode_s=time.perf_counter() - prefill_done)
        return out

    def greedy(self, step, logits: np.ndarray, total: int, max_new_tokens: int, stop_at_eos: bool = True,
               on_token=None) -> list[int]:
        """Greedy tokens after `logits` (the last row: the next token's), `total` positions already
        in `step`'s cache (a _decoder). The last token returned is not fed to the cache."""
        out: list[int] = []
        while True:
            token = int(np.argmax(logits[-1]))
            out.append(token)
            if on_token is not None and token not in self.eos_ids:
                on_token(out)
            if len(out) >= max_new_tokens or (stop_at_eos and token in self.eos_ids):
                return out
            total += 1
            logits = step([token], total)

    def generate(self, prompt: str, max_new_tokens: int = 64) -> str:
        return self.decode(self.generate_ids(self.encode(prompt), max_new_tokens))


class TextStream:
    """Writes a growing greedy decode's new text as it comes (an `on_token` for generate_ids),
    holding back a character whose UTF-8 bytes are not all out yet."""

    def __init__(self, lm: CausalLM, out):
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
    """

    def __init__(self, lm: CausalLM, max_new_tokens: int = 64, system: str | None = None):
        self.lm, self.max_new_tokens = lm, max_new_tokens
        self.turn = lm.chat_turn(conversation=True)
        self.prefix = lm.chat_prefix(system)
        self.fed: list[int] = []       # the token ids in the cache
        self.unfed: list[int] = []     # the last answer's last token, when it is not an end of turn
        self.capacity, self.step = 0, None

    def ask(self, message: str, on_token=None) -> list[int]:
        if not message.strip():
            raise InputError("empty message")
        opening = self.turn["between"] if self.fed else self.prefix
        new = self.unfed + self.lm.encode(opening + message + self.turn["suffix"])
        if len(self.fed) + len(new) + self.max_new_tokens > self.capacity:
            self.capacity = max(2 * self.capacity, len(self.fed) + len(new) + self.max_new_tokens)
            self.step = self.lm._decoder(self.capacity)
            new, self.fed = self.fed + new, []
        total = len(self.fed) + len(new)
        logits = self.step(new, total, last_only=True)
        out = self.lm.greedy(self.step, logits, total, self.max_new_tokens, on_token=on_token)
        self.fed += new + out[:-1]
        self.unfed = [] if out[-1] in self.lm.eos_ids else out[-1:]
        return out


def chat_lines(lm: CausalLM, stdin, out, max_new_tokens: int, as_json: bool = False, ask=None,
               history: bool = False, system: str | None = None) -> int:
    """Answer every non-empty line of `stdin` as a chat turn, each on its own or (history) after the
    questions and answers before it, streaming each answer to `out` (or one JSON line each); `ask`
    (if given) is written before each read; `system`: a system message of one's own. Returns how
    many were answered."""
    answered = 0
    lm.chat_turn(conversation=history)       # a missing or single-turn chat.json stops before any answer
    lm.chat_prefix(system)                   # and so does one with no place for a system message
    conversation = Conversation(lm, max_new_tokens, system) if history else None
    while True:
        if ask is not None:
            ask.write("> ")
            ask.flush()
        line = stdin.readline()
        if not line:
            return answered
        message = line.strip()
        if not message:
            continue
        stream = None if as_json else TextStream(lm, out)
        tokens = (conversation.ask(message, on_token=stream) if conversation is not None
                  else lm.generate_ids(lm.chat_ids(message, system=system), max_new_tokens, on_token=stream))
        text = lm.decode(tokens)
        out.write(json.dumps({"prompt": message, "tokens": tokens, "text": text}) + "\n" if as_json else "\n")
        out.flush()
        answered += 1


def genai_generate_ids(folder: Path, prompt_ids: list[int], max_new_tokens: int, threads: int = 1) -> list[int]:
    """The same greedy decode through onnxruntime-genai (when installed): its tokens must match."""
    import onnxruntime_genai as og

    config = og.Config(str(folder))
    config.overlay(json.dumps({"model": {"decoder": {"session_options": {
        "intra_op_num_threads": threads, "inter_op_num_threads": 1}}}}))
    model = og.Model(config)
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=len(prompt_ids) + max_new_tokens, do_sample=False)
    generator = og.Generator(model, params)
    generator.append_tokens(list(prompt_ids))
    out: list[int] = []
    while not generator.is_done() and len(out) < max_new_tokens:
        generator.generate_next_token()
        out.append(int(generator.get_next_tokens()[0]))
    return out


def teacher_forced_stats(lm: CausalLM, windows: list[list[int]], steps: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(NLL of each next token, the model's argmax there) over every window fed whole from an empty
    cache, concatenated: both (sum of len(w) - 1,). Perplexity is exp(mean NLL); two models'
    next-token agreement is the share of equal argmaxes. steps: fed one token a step through the
    KV cache instead, as generation runs (a quantized MatMul may take another kernel for one row
    than for many, which rounds differently: bench/decode_path.py)."""
    nll, argmax = [], []
    for ids in windows:
        if steps:
            step = lm._decoder(len(ids))
            logits = np.concatenate([step([token], t + 1)[-1:] for t, token in enumerate(ids[:-1])])
        else:
            logits = lm.forward(ids)[:-1]                                    # (T-1, V)
        logp = log_softmax(logits)
        nll.append(-logp[np.arange(len(ids) - 1), np.asarray(ids[1:])])
        argmax.append(logits.argmax(axis=-1))
    return np.concatenate(nll), np.concatenate(argmax).astype(np.int32)


def read_windows(path: Path) -> list[list[int]]:
    """A JSON list of token-id lists, each at least 2 long (InputError otherwise)."""
    try:
        windows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read windows from {path}: {exc}") from None
    if not (isinstance(windows, list) and windows and all(
            isinstance(w, list) and len(w) >= 2 and all(isinstance(t, int) and t >= 0 for t in w) for w in windows)):
        raise InputError(f"{path} must hold a JSON list of token-id lists, each at least 2 long")
    return windows


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, because Linux carries ru_maxrss across exec: a
    runtime started by a big parent process would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def bench(folder: Path, threads: list[int], repeats: int, prompt_tokens: int, new_tokens: int) -> list[dict]:
    """Per thread count: prefill tok/s (a `prompt_tokens` prompt), decode tok/s and wall time of a
    `new_tokens` greedy continuation (no EOS stop), median of `repeats` after one warm-up."""
    rows = []
    for n in threads:
        lm = CausalLM(folder, threads=n)
        ids = (lm.encode(BENCH_PROMPT) * (prompt_tokens // 8 + 1))[:prompt_tokens]
        short = ids[:16]
        lm.generate_ids(short, 4, stop_at_eos=False)  # warm-up
        prefill, decode, wall = [], [], []
        for _ in range(repeats):
            start = time.perf_counter()
            lm.forward(ids)
            prefill.append(len(ids) / (time.perf_counter() - start))
            t: dict = {}
            start = time.perf_counter()
            lm.generate_ids(short, new_tokens, stop_at_eos=False, timings=t)
            wall.append(time.perf_counter() - start)
            decode.append((new_tokens - 1) / t["decode_s"])
        rows.append({"threads": n, "prefill_tok_s": prefill, "decode_tok_s": decode, "wall_s": wall,
                     "machine": platform.machine(), "peak_rss_mb": peak_rss_mb()})
        del lm  # so the next thread count's session does not add to the peak
    return rows


def read_bandwidth_gb_s(threads: int = 1, mb: int = 256, repeats: int = 5) -> float:
    """Memory bandwidth of reading alone: numpy sums over `mb` MB split across `threads` threads
    (numpy's reductions release the GIL), bytes read per second, best of `repeats`. A decode step
    only reads its weights, so this, at the decode's thread count, is its roofline; a copy also
    writes, and one thread cannot draw a 2-core machine's full read bandwidth. The host study
    (edge/generator/measure.py) and the device study (`--bandwidth`) both call this one."""
    import threading

    if threads < 1:
        raise ValueError("threads must be at least 1")
    parts = np.array_split(np.ones(mb * 2**20 // 8), threads)
    best = float("inf")
    for _ in range(repeats):
        workers = [threading.Thread(target=np.add.reduce, args=(part,)) for part in parts]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        best = min(best, time.perf_counter() - start)
    return sum(p.nbytes for p in parts) / best / 1e9


def self_test(folder: Path) -> dict:
    """Greedy tokens of smoke.json's prompt here vs the host's (written by the bundle step). When
    smoke.json also has the host's teacher-forced log-probabilities of its tokens ("logprobs"),
    the host's sequence is scored here too: agreement is the share of its positions whose argmax
    here is the host's token, and max_logprob_diff the largest |difference| of those
    log-probabilities. A free-running continuation diverges for good at the first token whose
    argmax flips, so where kernels round differently (Arm against x86) the check passes when the
    teacher-forced agreement and difference are within smoke.json's min_agreement and
    logprob_tolerance; without them only identical tokens pass."""
    smoke = json.loads((folder / "smoke.json").read_text(encoding="utf-8"))
    lm = CausalLM(folder, threads=1)
    host = list(smoke["tokens"])
    got = lm.generate_ids(smoke["prompt_ids"], len(host), stop_at_eos=False)
    same = sum(1 for a, b in zip(got, host) if a == b)
    first_diff = next((i for i, (a, b) in enumerate(zip(got, host)) if a != b), None)
    result = {"machine": platform.machine(), "python": platform.python_version(), "tokens": got,
              "same": same, "of": len(host), "first_difference": first_diff, "ok": got == host}
    if "logprobs" in smoke and not result["ok"]:
        prompt = list(smoke["prompt_ids"])
        logp = log_softmax(lm.forward(prompt + host)[len(prompt) - 1:-1])          # (len(host), V)
        agreement = float(np.mean(logp.argmax(axis=1) == np.asarray(host)))
        diff = float(np.abs(logp[np.arange(len(host)), host] - np.asarray(smoke["logprobs"])).max())
        result.update(teacher_forced_agreement=agreement, max_logprob_diff=diff,
                      ok=agreement >= float(smoke.get("min_agreement", 1.0))
                      and diff <= float(smoke.get("logprob_tolerance", 0.0)))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(Path(__file__).resolve().parent / "model"))
    parser.add_argument("--prompt")
    parser.add_argument("--chat", action="store_true")
    parser.add_argument("--history", action="store_true")
    parser.add_argument("--system", help="with --chat: a system message of one's own instead of the template's")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backend", choices=["ort", "genai"], default="ort")
    parser.add_argument("--score", action="store_true")
    parser.add_argument("--context")
    parser.add_argument("--continuation")
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--bench", action="store_true")
    parser.add_argument("--bench-threads", default="1,2")
    parser.add_argument("--bench-repeats", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=300)
    parser.add_argument("--teacher-forced", metavar="WINDOWS_JSON")
    parser.add_argument("--decode-steps", action="store_true")   # --teacher-forced one token a step
    parser.add_argument("--bandwidth", action="store_true")
    parser.add_argument("--bandwidth-mb", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(args.model)
    try:
        try:
            threads = [int(x) for x in args.bench_threads.split(",") if x.strip()]
        except ValueError:
            raise InputError(f"--bench-threads takes comma-separated integers, got {args.bench_threads!r}") from None
        if not threads or min(threads + [args.threads, args.max_new_tokens, args.bench_repeats, args.prompt_tokens,
                                         args.bandwidth_mb]) < 1:
            raise InputError("--threads, --bench-threads, --max-new-tokens, --bench-repeats, --prompt-tokens and "
                             "--bandwidth-mb must be at least 1")
        if args.decode_steps and not args.teacher_forced:
            raise InputError("--decode-steps goes with --teacher-forced WINDOWS_JSON")
        if args.system is not None and not args.chat:
            raise InputError("--system goes with --chat")
        if args.bandwidth:
            result = {"read_gb_s": {n: read_bandwidth_gb_s(n, args.bandwidth_mb) for n in threads},
                      "machine": platform.machine()}
        elif args.self_test:
            result = self_test(folder)
        elif args.bench:
            result = {"rows": bench(folder, threads, args.bench_repeats, args.prompt_tokens, args.max_new_tokens)}
            if platform.machine() == "aarch64" and "KLLM_EMULATED" in os.environ:
                result["note"] = EMULATED_NOTE
        elif args.teacher_forced:
            lm = CausalLM(folder, args.threads)
            nll, argmax = teacher_forced_stats(lm, read_windows(Path(args.teacher_forced)), steps=args.decode_steps)
            result = {"nll": [round(float(x), 6) for x in nll], "argmax": argmax.tolist(),
                      "machine": platform.machine()}
        elif args.history and (not args.chat or args.prompt is not None):
            raise InputError("--history goes with --chat and questions on stdin (no --prompt)")
        elif args.chat and args.prompt is None:
            lm = CausalLM(folder, args.threads)
            chat_lines(lm, sys.stdin, sys.stdout, args.max_new_tokens, args.json,
                       ask=sys.stderr if sys.stdin.isatty() else None, history=args.history, system=args.system)
            return 0
        elif args.score:
            if args.context is None or args.continuation is None:
                raise InputError("--score needs --context and --continuation")
            total, per_token = CausalLM(folder, args.threads).score(args.context, args.continuation)
            result = {"logprob": total, "per_token": per_token}
        else:
            if not args.prompt:
                raise InputError("give --prompt TEXT (or --score, --self-test, --bench)")
            lm = CausalLM(folder, args.threads)
            ids = lm.chat_ids(args.prompt, system=args.system) if args.chat else lm.encode(args.prompt)
            tokens = (genai_generate_ids(folder, ids, args.max_new_tokens, args.threads) if args.backend == "genai"
                      else lm.generate_ids(ids, args.max_new_tokens))
            result = {"tokens": tokens, "text": lm.decode(tokens)}
    except (InputError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json or args.self_test or args.bench or args.score or args.teacher_forced or args.bandwidth:
        print(json.dumps(result))
    else:
        print(result["text"])
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
