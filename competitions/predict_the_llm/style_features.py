"""Features of a response a person would name, for style_lgbm.

    names, x = style_features(pairs.all_q, pairs.all_r, lm="smollm2")   # (n, len(names))

- text: length, sentences, punctuation and casing rates, lists and line breaks, lexical
  diversity, repeated n-grams, overlap with the question, pronouns;
- LM: statistics of the response's tokens given its question under a local causal LM
  (common.llm.token_stats): log-probability mean/spread/percentiles, entropy, how often the
  token is the LM's first choice (a greedy decoder's is always), log rank;
- group: every feature minus its mean over the responses to the same question ("longer than
  the other answers to this question"), 0 for a question answered once; an empty response's
  LM statistics are missing (NaN) and stay out of its question's mean.
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np

WORD = re.compile(r"[A-Za-z0-9']+")
SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
PUNCT = {"comma": ",", "period": ".", "exclaim": "!", "question": "?", "colon": ":", "semicolon": ";",
         "quote": '"', "apostrophe": "'", "paren": "(", "dash": "-", "star": "*", "digit": "0123456789"}
FIRST_PERSON = {"i", "me", "my", "mine", "we", "us", "our", "i'm", "i've", "i'd", "i'll"}
SECOND_PERSON = {"you", "your", "yours", "you're", "you've", "you'll"}
LM_NAMES = ("lp_mean", "lp_std", "lp_p10", "lp_p50", "lp_p90", "ent_mean", "ent_std", "surprise_excess",
            "top1_rate", "top5_rate", "log_rank_mean", "lm_tokens")


def _ngram_repeat(words: list[str], n: int) -> float:
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def text_features(question: str, response: str) -> dict[str, float]:
    chars = max(len(response), 1)
    words = [w.lower() for w in WORD.findall(response)]
    q_words = {w.lower() for w in WORD.findall(question)}
    n_words = max(len(words), 1)
    letters = [c for c in response if c.isalpha()]
    tokens = response.split()
    lines = [line for line in response.splitlines() if line.strip()]
    counts = Counter(words)
    feats = {
        "log_chars": np.log1p(len(response)), "log_words": np.log1p(len(words)),
        "sentences": len(SENTENCE_END.findall(response)), "word_len": sum(map(len, words)) / n_words,
        "words_per_sentence": len(words) / max(len(SENTENCE_END.findall(response)), 1),
        "ends_sentence": float(response.rstrip()[-1:] in tuple(".!?")),
        "upper_rate": sum(c.isupper() for c in letters) / max(len(letters), 1),
        "title_words": sum(t[:1].isupper() for t in tokens) / max(len(tokens), 1),
        "caps_words": sum(t.isupper() and len(t) > 1 for t in tokens) / max(len(tokens), 1),
        "lines": len(lines), "list_lines": sum(bool(re.match(r"\s*([-*•]|\d+[.)])\s", x)) for x in lines),
        "non_ascii": sum(ord(c) > 127 for c in response) / chars,
        "type_token": len(counts) / n_words, "hapax": sum(v == 1 for v in counts.values()) / n_words,
        "top_word_share": counts.most_common(1)[0][1] / n_words if counts else 0.0,
        "repeat_2gram": _ngram_repeat(words, 2), "repeat_3gram": _ngram_repeat(words, 3),
        "in_question": sum(w in q_words for w in words) / n_words,
        "question_covered": len(q_words & set(words)) / max(len(q_words), 1),
        "echo_start": float(bool(words) and words[:3] == [w.lower() for w in WORD.findall(question)][:3]),
        "first_person": sum(w in FIRST_PERSON for w in words) / n_words,
        "second_person": sum(w in SECOND_PERSON for w in words) / n_words,
        "contractions": sum("'" in w for w in words) / n_words,
    }
    for name, marks in PUNCT.items():
        feats[f"rate_{name}"] = sum(response.count(m) for m in marks) / chars
    return feats


def lm_features(stats: np.ndarray) -> list[float]:
    """LM_NAMES from one response's (n_tokens, 3) logprob / entropy / rank rows; NaN (missing, to
    LightGBM) for a response of no tokens, which has no statistics."""
    if not len(stats):
        return [float("nan")] * len(LM_NAMES)
    lp, ent, rank = stats[:, 0].astype(np.float64), stats[:, 1].astype(np.float64), stats[:, 2]
    p10, p50, p90 = np.percentile(lp, [10, 50, 90])
    return [lp.mean(), lp.std(), p10, p50, p90, ent.mean(), ent.std(), float(np.mean(-lp - ent)),
            float(np.mean(rank == 0)), float(np.mean(rank < 5)), float(np.mean(np.log1p(rank))), np.log(len(lp))]


def group_relative(x: np.ndarray, groups: list[str]) -> np.ndarray:
    """Each row minus the mean of the rows of its group (same question); a missing (NaN) value
    stays missing and is left out of its group's mean."""
    codes, inverse = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    present = ~np.isnan(x)
    sums, counts = np.zeros((len(codes), x.shape[1])), np.zeros((len(codes), x.shape[1]))
    np.add.at(sums, inverse, np.where(present, x, 0.0))
    np.add.at(counts, inverse, present)
    return x - (sums / np.maximum(counts, 1))[inverse]


def style_features(questions: list[str], responses: list[str], lm: str = "smollm2", response_tokens: int = 128,
                   progress: bool = True) -> tuple[list[str], np.ndarray]:
    """(feature names, (n, n_features) float64): text and LM features, then their group-relative
    copies. lm='' leaves the LM features out."""
    rows = [text_features(q, r) for q, r in zip(questions, responses)]
    names = list(rows[0])
    x = np.array([[row[n] for n in names] for row in rows], dtype=np.float64)
    if lm:
        from common.llm.token_stats import response_token_stats

        stats = response_token_stats(lm, questions, responses, max_response_tokens=response_tokens, progress=progress)
        x = np.hstack([x, np.array([lm_features(s) for s in stats], dtype=np.float64)])
        names += list(LM_NAMES)
    x = np.hstack([x, group_relative(x, questions)])
    return names + [f"{n}_vs_question" for n in names], x
