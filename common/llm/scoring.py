"""Log-likelihoods from a local causal LM: per-token log-probs, perplexity, continuation scores.

    from common.llm.scoring import token_logprobs, perplexity, score_continuations
    lps = token_logprobs("smollm2", ["The sky is blue."])       # [array([-5.1, -2.3, ...])]
    ppl = perplexity("smollm2", texts)                           # (n,) exp(-mean log-prob)
    s = score_continuations("smollm2", "Q: 2+2=?\\nA:", [" 4", " 5"])
    s.total, s.mean, s.n_tokens                                  # each (2,)

Texts are tokenized as the tokenizer does by default (BOS only if it adds one); the first token
has no context and so no log-prob unless a BOS precedes it. Batches are right-padded, so
padding never shifts positions. `score_continuations` runs the prefix once and reuses its
KV cache for every continuation (`score_continuation_groups` does so for many prefixes in one
batch); `use_prefix_cache=False` runs prefix + continuation in full, for comparison.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.errors import UserError
from common.llm.cache import JsonlCache, cached_map
from common.models import model_fingerprint, shared_causal_lm

# A prefix keeps its last MAX_PREFIX_TOKENS tokens (the end, which the continuation follows), a
# continuation its first MAX_CONTINUATION_TOKENS: one 100k-character row would otherwise pad a whole
# batch to ~25k tokens (minutes and ~11 GB on a 2-core machine). Real rows are far shorter.
MAX_PREFIX_TOKENS = 2048
MAX_CONTINUATION_TOKENS = 512


def prefix_and_continuation_ids(tokenizer, prefix: str, continuations: list[str]) -> tuple[list[int], list[list[int]]]:
    """(prefix ids, one id list per continuation), each cut to its cap: what every scoring path feeds."""
    return (tokenizer(prefix)["input_ids"][-MAX_PREFIX_TOKENS:],
            [tokenizer(c, add_special_tokens=False)["input_ids"][:MAX_CONTINUATION_TOKENS] for c in continuations])


def _check_texts(texts, what: str = "text") -> list[str]:
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            raise UserError(f"{what} {i} is empty or not a string: {t!r}")
    return texts


def right_padded(rows: list[list[int]], pad_id: int):
    """(ids, mask): (B, T) long tensors, rows padded on the right."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask


def _gather_logprobs(logits, targets):
    """log p(targets) under logits: (B, T, V), (B, T) -> (B, T), one row at a time to save memory."""
    import torch

    return torch.stack([torch.log_softmax(logits[b].float(), -1).gather(-1, targets[b, :, None])[:, 0]
                        for b in range(logits.shape[0])])


def _logprobs_batch(model, tokenizer, texts: list[str], max_length: int) -> list[list[float]]:
    import torch

    rows = [tokenizer(t, truncation=True, max_length=max_length)["input_ids"] for t in texts]
    ids, mask = right_padded(rows, tokenizer.pad_token_id)
    with torch.inference_mode():
        logits = model(input_ids=ids, attention_mask=mask).logits  # (B, T, V)
        lp = _gather_logprobs(logits[:, :-1], ids[:, 1:])  # (B, T-1): token t given tokens < t
    return [lp[i, : len(r) - 1].tolist() for i, r in enumerate(rows)]


def token_logprobs(model_name: str, texts: list[str], batch_size: int = 8, max_length: int = 2048,
                   cache: bool = True, progress: bool = True) -> list[np.ndarray]:
    """Log-prob of each token given the ones before it (first token excluded), one array per text.
    Texts longer than max_length tokens are truncated. Cached on disk under cache_dir("scores")."""
    texts = _check_texts(texts)
    if not texts:
        return []
    store = JsonlCache("scores", model_name, model_fingerprint(model_name),
                       {"fn": "token_logprobs", "max_length": max_length}) if cache else None

    def compute(batch):
        model, tokenizer = shared_causal_lm(model_name)
        return _logprobs_batch(model, tokenizer, batch, max_length)

    values = cached_map(store, texts, compute, batch_size, progress, desc="token log-probs")
    return [np.asarray(v, dtype=np.float32) for v in values]


def perplexity(model_name: str, texts: list[str], batch_size: int = 8, **kwargs) -> np.ndarray:
    """exp(-mean token log-prob) per text, shape (n,); NaN for a text of a single token."""
    lps = token_logprobs(model_name, texts, batch_size=batch_size, **kwargs)
    return np.array([np.exp(-lp.mean()) if lp.size else np.nan for lp in lps], dtype=np.float64)


@dataclass
class ContinuationScores:
    """total: summed log-prob of each continuation given the prefix, (n,). mean: total / n_tokens
    (length-normalized). n_tokens: tokens in each continuation."""

    total: np.ndarray
    mean: np.ndarray
    n_tokens: np.ndarray


def _continuation_logprobs_full(model, prefix_ids, cont_rows, pad_id):
    import torch

    rows = [prefix_ids + c for c in cont_rows]
    ids, mask = right_padded(rows, pad_id)
    with torch.inference_mode():
        logits = model(input_ids=ids, attention_mask=mask).logits  # (B, P+L, V)
    p = len(prefix_ids)
    width = max(len(c) for c in cont_rows)
    lp = _gather_logprobs(logits[:, p - 1 : p - 1 + width], ids[:, p : p + width])  # (B, L)
    return [lp[i, : len(c)].sum().item() for i, c in enumerate(cont_rows)]


def score_continuations(model_name: str, prefix: str, continuations: list[str], batch_size: int = 8,
                        use_prefix_cache: bool = True) -> ContinuationScores:
    """Log-prob of each continuation given the prefix. Tokens are tokenizer(prefix) followed by
    tokenizer(continuation) without special tokens, so start continuations with a space.
    With the prefix cache (default) all continuations go through `score_continuation_groups` in
    one batch; `use_prefix_cache=False` runs prefix + continuation in full, `batch_size` rows at a
    time, for comparison."""
    _check_texts([prefix], "prefix")
    continuations = _check_texts(continuations, "continuation")
    if use_prefix_cache:
        return score_continuation_groups(model_name, [prefix], [continuations])[0]
    model, tokenizer = shared_causal_lm(model_name)
    prefix_ids, cont_rows = prefix_and_continuation_ids(tokenizer, prefix, continuations)
    totals = []
    for start in range(0, len(cont_rows), batch_size):
        totals += _continuation_logprobs_full(model, prefix_ids, cont_rows[start : start + batch_size], tokenizer.pad_token_id)
    total = np.array(totals, dtype=np.float64)
    n = np.array([len(c) for c in cont_rows], dtype=np.int64)
    return ContinuationScores(total=total, mean=total / n, n_tokens=n)


def score_continuation_groups(model_name: str, prefixes: list[str], groups: list[list[str]]) -> list[ContinuationScores]:
    """`score_continuations` for several prefixes at once: one batched forward over the prefixes
    (right-padded), their KV caches copied to every continuation of their group, and one batched
    forward over all continuations. Same numbers as one call per prefix, fewer and larger matmuls.

        s = score_continuation_groups("smollm2", ["Q: 2+2=?\\nA:", "Q: sky?\\nA:"], [[" 4", " 5"], [" blue", " red"]])
        s[1].mean      # (2,) mean log-prob of " blue", " red" after the second prefix
    """
    import torch

    if len(prefixes) != len(groups):
        raise ValueError(f"{len(prefixes)} prefixes but {len(groups)} continuation groups")
    prefixes = _check_texts(prefixes, "prefix")
    model, tokenizer = shared_causal_lm(model_name)
    pairs = [prefix_and_continuation_ids(tokenizer, p, _check_texts(g, "continuation")) for p, g in zip(prefixes, groups)]
    cont_rows = [rows for _, rows in pairs]
    prefix_ids, prefix_mask = right_padded([ids for ids, _ in pairs], tokenizer.pad_token_id)
    lengths = prefix_mask.sum(1)                                              # (B,)
    owner = torch.repeat_interleave(torch.arange(len(prefixes)), torch.tensor([len(g) for g in groups]))
    flat = [row for rows in cont_rows for row in rows]
    ids, mask = right_padded(flat, tokenizer.pad_token_id)                    # (N, L)
    counts = [len(row) for row in flat]
    with torch.inference_mode():
        out = model.model(input_ids=prefix_ids, attention_mask=prefix_mask, use_cache=True)
        last = out.last_hidden_state[torch.arange(len(prefixes)), lengths - 1]   # (B, H): predicts token 0
        kv = out.past_key_values
        kv.batch_select_indices(owner)                                        # prefix cache per continuation
        positions = lengths[owner, None] + torch.arange(ids.shape[1])[None]   # each row continues its own prefix
        hidden = model.model(input_ids=ids, attention_mask=torch.cat([prefix_mask[owner], mask], dim=1),
                             position_ids=positions, past_key_values=kv, use_cache=True).last_hidden_state
        # the LM head only where a real token is predicted: the vocabulary projection is the costly part
        rows = torch.cat([torch.cat([last[owner[i]][None], hidden[i, : n - 1]]) for i, n in enumerate(counts)])
        targets = torch.cat([ids[i, :n] for i, n in enumerate(counts)])
        lp = torch.log_softmax(model.lm_head(rows).float(), -1).gather(-1, targets[:, None])[:, 0]
    ends = np.cumsum(counts)
    totals = np.array([lp[e - n : e].sum().item() for e, n in zip(ends, counts)], dtype=np.float64)
    counts = np.array(counts, dtype=np.int64)
    result, start = [], 0
    for rows in cont_rows:
        end = start + len(rows)
        result.append(ContinuationScores(total=totals[start:end], mean=totals[start:end] / counts[start:end],
                                         n_tokens=counts[start:end]))
        start = end
    return result
