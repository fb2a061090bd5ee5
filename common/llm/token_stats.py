"""Per-token statistics of a response given its prompt under a local causal LM: the token's
log-probability, the entropy of the LM's predictive distribution there, and the token's rank
(0 = the LM's top choice). Features for telling generators apart (GLTR-style).

    from common.llm.token_stats import response_token_stats, STAT_NAMES
    stats = response_token_stats("smollm2", ["What is 2+2?"], ["It is 4."])
    stats[0]          # (n_response_tokens, 3): logprob, entropy, rank
    response_token_stats("smollm2", prompts, responses, chat_template=False)   # plain prefix

With `chat_template` (and a model that has one) the prompt is rendered as one user turn and the
assistant's turn opened, as common.llm.generation renders it; the response's tokens follow.
Only the first `max_response_tokens` tokens of a response are scored, and the prompt keeps at
most `max_prompt_tokens` (its end). Results are cached on disk (common.llm.cache, kind "scores"),
keyed by the model fingerprint, these settings, prompt and response, so a rerun scores nothing.
"""
from __future__ import annotations

import numpy as np

from common.errors import UserError
from common.llm.cache import JsonlCache, cached_map
from common.llm.generation import GenerationConfig, render_prompt, uses_chat_template
from common.llm.scoring import right_padded
from common.models import model_fingerprint, shared_causal_lm

STAT_NAMES = ("logprob", "entropy", "rank")
_SEP = "\x00\x1f"   # joins prompt and response into one cache item


def _encode(tokenizer, prompt: str, response: str, chat: bool, max_prompt: int, max_response: int):
    config = GenerationConfig(chat_template=chat)
    rendered = render_prompt(tokenizer, prompt, config)
    special = not uses_chat_template(tokenizer, config)      # a rendered template has its own
    prompt_ids = tokenizer(rendered, add_special_tokens=special)["input_ids"][-max_prompt:]
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"][:max_response]
    return prompt_ids, response_ids


def _stats_batch(model, tokenizer, pairs: list[tuple[list[int], list[int]]]) -> list[list[list[float]]]:
    import torch

    ids, mask = right_padded([p + r for p, r in pairs], tokenizer.pad_token_id)
    with torch.inference_mode():
        hidden = model.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state   # (B, T, H)
        # the vocabulary projection only where a response token is predicted: it is the costly part
        rows = torch.cat([hidden[b, len(p) - 1: len(p) - 1 + len(r)] for b, (p, r) in enumerate(pairs)])
        logits = model.get_output_embeddings()(rows).float()                               # (N, V)
        cap = getattr(model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        target = torch.tensor([t for _, r in pairs for t in r])
        logp = torch.log_softmax(logits, -1)
        chosen = logp.gather(-1, target[:, None])[:, 0]                                    # (N,)
        entropy = -(logp.exp() * logp).sum(-1)                                             # (N,)
        rank = (logits > logits.gather(-1, target[:, None])).sum(-1)                       # (N,)
        stats = torch.stack([chosen, entropy, rank.float()], 1).tolist()                   # (N, 3)
    ends = np.cumsum([len(r) for _, r in pairs])
    return [stats[end - len(r): end] for end, (_, r) in zip(ends, pairs)]


def response_token_stats(model_name: str, prompts: list[str], responses: list[str], chat_template: bool = True,
                         max_prompt_tokens: int = 256, max_response_tokens: int = 128, batch_size: int = 8,
                         cache: bool = True, progress: bool = True) -> list[np.ndarray]:
    """One (n_tokens, 3) float32 array per response (columns STAT_NAMES); a response of no
    tokens ("") gets a (0, 3) array. A prompt that is empty, or a prompt or response that is not
    a string, is a UserError."""
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    for what, texts, blank_ok in (("prompt", prompts, False), ("response", responses, True)):
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not (blank_ok or text.strip()):
                raise UserError(f"{what} {i} is empty or not a string: {text!r}")
    if not prompts:
        return []
    params = {"fn": "response_token_stats", "chat_template": chat_template,
              "max_prompt_tokens": max_prompt_tokens, "max_response_tokens": max_response_tokens}
    store = JsonlCache("scores", model_name, model_fingerprint(model_name), params) if cache else None

    def compute(items: list[str]):
        model, tokenizer = shared_causal_lm(model_name)
        pairs = [_encode(tokenizer, *item.split(_SEP, 1), chat_template, max_prompt_tokens, max_response_tokens)
                 for item in items]
        return _stats_batch(model, tokenizer, pairs)

    items = [p + _SEP + r for p, r in zip(prompts, responses)]
    by_length = sorted(dict.fromkeys(items), key=len)   # batches of similar length pad less
    values = dict(zip(by_length, cached_map(store, by_length, compute, batch_size, progress,
                                            desc="response token stats")))
    values = [values[item] for item in items]
    return [np.asarray(v, dtype=np.float32).reshape(-1, len(STAT_NAMES)) for v in values]
