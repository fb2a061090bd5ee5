"""The on-device causal LM: a builder-exported decoder with its KV cache (greedy decode, scoring,
teacher-forced NLL), run by onnxruntime alone. Copied to the device as is, beside generate.py
(its command line), lm_chat.py and lm_measure.py; imports nothing from them or from this repo.

    lm = CausalLM(Path("model"), threads=1)        # a folder made by edge/generator/export.py
    lm.generate("The Roman Empire", max_new_tokens=16)
    nll, argmax = teacher_forced_stats(lm, [[1, 2, 3, 4]])

It reads genai_config.json, model.onnx (+ model.onnx.data) and tokenizer.json, and for chat
turns chat.json (rendered from the model's template on the host: edge/generator/chat.py). A model
with a `logits_from` input (an overridable initializer: edge/generator/logits_from.py) computes
logits only from that position on, so a prompt's prefill skips the LM head for every position but
the last; other models return them all. Bad input raises InputError.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

LOGITS_FROM = "logits_from"  # edge/generator/logits_from.py
CHAT_FILE = "chat.json"  # edge/generator/chat.py
REBUILD = "delete the folder; the host exports it, or stages it on the device, again on the next run"
# Scoring keeps a context's last MAX_PREFIX_TOKENS tokens and a continuation's first
# MAX_CONTINUATION_TOKENS, as the host's common/llm/scoring.py does (one huge row would otherwise
# ask a Pi for a prefill of tens of thousands of positions, and score unlike the host).
MAX_PREFIX_TOKENS = 2048
MAX_CONTINUATION_TOKENS = 512


class InputError(ValueError):
    """Bad input; generate.py's main() prints it as one line and exits with code 2."""


class DamagedModel(InputError):
    """The model folder lacks a file, or onnxruntime or tokenizers could not load one."""


def check_text(text: str, what: str = "the text") -> None:
    """InputError unless `text` is a str of real characters: bytes that were not UTF-8 reach Python
    as lone surrogates (stdin's surrogateescape), which the tokenizer cannot take."""
    if not isinstance(text, str):
        raise InputError(f"{what} is not text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InputError(f"{what} is not UTF-8 text (a byte that is no character at position {err.start})") from None


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

    InputError = InputError   # what callers that do not import this module (lm_chat.py) catch

    def __init__(self, folder: Path, threads: int = 1):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{folder} is a file: give the model's folder")
        config_path = self.folder / "genai_config.json"
        try:
            genai_config = json.loads(config_path.read_text(encoding="utf-8"))
            config, decoder = genai_config["model"], genai_config["model"]["decoder"]
            int(decoder["num_key_value_heads"]), int(decoder["head_size"])
        except FileNotFoundError:       # not a model folder, or a deployed one that lost it (DamagedModel)
            raise DamagedModel(f"no genai_config.json in {folder}: not a model folder") from None
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"{config_path} is not an exported model's config ({type(err).__name__}: {err})") from None
        for name in ("tokenizer.json", decoder.get("filename", "model.onnx")):
            if not (self.folder / name).is_file():
                raise DamagedModel(f"{folder} lacks {name}: not a complete model folder ({REBUILD})")
        # the builder's GroupQueryAttention can write the new keys/values into the past's own buffer
        self.share_buffer = bool(genai_config.get("search", {}).get("past_present_share_buffer", False))
        self.eos_ids = set(np.atleast_1d(config.get("eos_token_id", [])).tolist())
        self.kv_heads, self.head_size = int(decoder["num_key_value_heads"]), int(decoder["head_size"])
        self.context_length = int(config.get("context_length") or 0) or None   # positions the model was made for
        self.vocab_size = int(config.get("vocab_size") or 0) or None
        self.threads = threads
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # fatal only: it warns of every overridable initializer (logits_from), and a damaged file's error,
        # logged too, comes back as the exception below, said in one line
        options.log_severity_level = 4
        try:
            self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            self.session = ort.InferenceSession(str(self.folder / decoder.get("filename", "model.onnx")), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as err:   # tokenizers' and onnxruntime's own errors: a truncated or damaged file
            detail = (str(err).strip().splitlines() or [type(err).__name__])[-1][:200]
            raise DamagedModel(f"{folder} holds a damaged model file ({detail}): {REBUILD}") from None
        self.past_names = [i.name for i in self.session.get_inputs() if i.name.startswith("past_key_values.")]
        self.output_names = [o.name for o in self.session.get_outputs()]  # logits, present.* (keys, then values)
        self.kv_dtype = np.float16 if "float16" in self.session.get_inputs()[2].type else np.float32
        self.logits_from = LOGITS_FROM in {i.name for i in self.session.get_overridable_initializers()}
        self._chat: dict | None = None    # chat.json, read on the first chat turn

    def encode(self, text: str) -> list[int]:
        check_text(text)
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(list(ids))

    def chat_turn(self, conversation: bool = False) -> dict:
        """chat.json's pieces of a turn (read once); InputError when it is missing, or
        (conversation) when it cannot continue a conversation."""
        if self._chat is None:
            path = self.folder / CHAT_FILE
            try:
                chat = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise InputError(f"no {CHAT_FILE} in {self.folder}: the model has no chat template, or its folder "
                                 f"was copied without it (edge/generator/chat.py writes it)") from None
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InputError(f"cannot read {path}: {exc}") from None
            texts = lambda d, keys: isinstance(d, dict) and all(isinstance(d.get(k), str) for k in keys)  # noqa: E731
            if not (texts(chat, ("prefix", "suffix")) and ("between" not in chat or texts(chat, ("between",)))
                    and ("system" not in chat or texts(chat["system"], ("before", "after")))):
                raise InputError(f"{path} is not a chat turn as edge/generator/chat.py writes it (texts prefix and "
                                 f"suffix; between, system's before and after where the template has them)")
            self._chat = chat
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
        turn = self.chat_turn(conversation=bool(history))
        text = self.chat_prefix(system)
        for asked, answered in history:
            text += asked + turn["suffix"] + answered + turn["between"]
        return self.user_ids(text, message)

    def user_ids(self, opening: str, message: str) -> list[int]:
        """The token ids of `opening` (chat.json's prefix, or what goes between turns), `message` as
        a user turn and the assistant's opening (InputError for an empty message)."""
        if not message.strip():
            raise InputError("empty message")
        return self.encode(opening + message + self.chat_turn()["suffix"])

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

    def check_ids(self, ids: list[int]) -> None:
        """InputError unless `ids` is a non-empty run of the model's token ids that fits its context."""
        if not ids:
            raise InputError("no tokens to score")
        if self.context_length and len(ids) > self.context_length:
            raise InputError(f"{len(ids)} tokens pass the model's {self.context_length}-token context")
        if self.vocab_size and not 0 <= min(ids) <= max(ids) < self.vocab_size:
            raise InputError(f"token ids must lie in 0..{self.vocab_size - 1} (the model's vocabulary)")

    def forward(self, ids: list[int]) -> np.ndarray:
        """Teacher-forced logits (T, V) of `ids` from an empty cache."""
        self.check_ids(ids)
        logits, _ = self._step(list(ids), self._empty_past(), len(ids))
        return logits

    def score(self, context: str, continuation: str) -> tuple[float, list[float]]:
        """(sum, per-token) log p(continuation | context); context and continuation tokenized apart,
        capped at MAX_PREFIX_TOKENS (the context's end) and MAX_CONTINUATION_TOKENS (its start)."""
        ctx, cont = self.encode(context)[-MAX_PREFIX_TOKENS:], self.encode(continuation)[:MAX_CONTINUATION_TOKENS]
        if not ctx or not cont:
            raise InputError("context and continuation must both be non-empty")
        logits, _ = self._step(ctx + cont, self._empty_past(), len(ctx) + len(cont), logits_from=len(ctx) - 1)
        logp = log_softmax(logits[-len(cont) - 1:-1])                                   # (len(cont), V)
        per_token = logp[np.arange(len(cont)), np.asarray(cont)]
        return float(per_token.sum()), [float(x) for x in per_token]

    def continuation_scores(self, prefix: str, continuations: list[str], norm: str = "mean") -> list[float]:
        """Mean (norm "mean") or total token log-likelihood of each continuation after `prefix`; the
        prefix runs once and every continuation continues its KV cache. Capped as `score` is.

            lm.continuation_scores("Question: Which gas do plants take in?\nAnswer:", [" oxygen", " carbon dioxide"])
        """
        ids = self.encode(prefix)[-MAX_PREFIX_TOKENS:]
        if not ids:
            raise InputError("the prefix must be non-empty")
        logits, past = self._step(ids, self._empty_past(), len(ids), logits_from=len(ids) - 1)  # the last row at least
        first = log_softmax(logits[-1])                                                          # (V,)
        out = []
        for text in continuations:
            cont = self.encode(text)[:MAX_CONTINUATION_TOKENS]
            if not cont:
                raise InputError("every continuation must be non-empty")
            lp = [first[cont[0]]]
            if len(cont) > 1:
                more, _ = self._step(cont, past, len(ids) + len(cont))                           # (Tc, V)
                lp.extend(log_softmax(more[:-1])[np.arange(len(cont) - 1), cont[1:]])
            total = float(np.sum(lp))
            out.append(total / len(cont) if norm == "mean" else total)
        return out

    def fits(self, prompt_tokens: int, max_new_tokens: int) -> bool:
        """Whether a prompt and its answer stay within the model's context."""
        return self.context_length is None or prompt_tokens + max_new_tokens <= self.context_length

    def check_fits(self, prompt_tokens: int, max_new_tokens: int) -> None:
        if self.fits(prompt_tokens, max_new_tokens):
            return
        if max_new_tokens >= self.context_length:
            raise InputError(f"--max-new-tokens {max_new_tokens} leaves no room for a prompt in the model's "
                             f"{self.context_length}-token context; lower it")
        raise InputError(f"the prompt is {prompt_tokens} tokens: with {max_new_tokens} new ones it passes the "
                         f"model's {self.context_length}-token context; shorten it")

    def generate_ids(self, prompt_ids: list[int], max_new_tokens: int, stop_at_eos: bool = True,
                     timings: dict | None = None, on_token=None, pick=None) -> list[int]:
        """Greedy continuation of `prompt_ids` (or each token chosen by `pick`: next_tokens);
        `timings` (if given) gets prefill_s and decode_s; `on_token(ids so far)` is called after
        each new token (not for an end-of-sequence one)."""
        if not prompt_ids:
            raise InputError("empty prompt")
        self.check_fits(len(prompt_ids), max_new_tokens)
        start = time.perf_counter()
        step = self._decoder(len(prompt_ids) + max_new_tokens)
        logits = step(list(prompt_ids), len(prompt_ids), last_only=True)
        prefill_done = time.perf_counter()
        out = self.next_tokens(step, logits, len(prompt_ids), max_new_tokens, stop_at_eos, on_token, pick, prompt_ids)
        if timings is not None:
            timings.update(prefill_s=prefill_done - start, decode_s=time.perf_counter() - prefill_done)
        return out

    def next_tokens(self, step, logits: np.ndarray, total: int, max_new_tokens: int, stop_at_eos: bool = True,
                    on_token=None, pick=None, seen: list[int] = ()) -> list[int]:
        """The tokens after `logits` (the last row: the next token's), `total` positions already in
        `step`'s cache (a _decoder): each the argmax, or `pick(logits, seen, tokens so far)` (an
        lm_sampling.Sampler) where `seen` are the ids before these. The last token returned is not
        fed to the cache."""
        out: list[int] = []
        while True:
            token = int(np.argmax(logits[-1])) if pick is None else pick(logits[-1], seen, out)
            out.append(token)
            if on_token is not None and token not in self.eos_ids:
                on_token(out)
            if len(out) >= max_new_tokens or (stop_at_eos and token in self.eos_ids):
                return out
            total += 1
            logits = step([token], total)

    def generate(self, prompt: str, max_new_tokens: int = 64) -> str:
        return self.decode(self.generate_ids(self.encode(prompt), max_new_tokens))


def teacher_forced_stats(lm: CausalLM, windows: list[list[int]], steps: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(NLL of each next token, the model's argmax there) over every window fed whole from an empty
    cache, concatenated: both (sum of len(w) - 1,). Perplexity is exp(mean NLL); two models'
    next-token agreement is the share of equal argmaxes. steps: fed one token a step through the
    KV cache instead, as generation runs (a quantized MatMul may take another kernel for one row
    than for many, which rounds differently: bench/decode_path.py)."""
    nll, argmax = [], []
    for ids in windows:
        if steps:
            lm.check_ids(ids)                  # forward() checks its own
            step = lm._decoder(len(ids))
            logits = np.concatenate([step([token], t + 1)[-1:] for t, token in enumerate(ids[:-1])])
        else:
            logits = lm.forward(ids)[:-1]                                    # (T-1, V)
        logp = log_softmax(logits)
        nll.append(-logp[np.arange(len(ids) - 1), np.asarray(ids[1:])])
        argmax.append(logits.argmax(axis=-1))
    return np.concatenate(nll), np.concatenate(argmax).astype(np.int32)
