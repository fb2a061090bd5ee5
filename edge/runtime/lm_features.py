"""The on-device feature classifier: (question, response) pairs in, class probabilities out, from
a causal LM's token statistics of the response plus a few text measurements, through a head:
linear softmax, or one boosted tree ensemble per class ("kind": "gbdt", walked in numpy). Copied to the device as is; imports only onnxruntime, tokenizers, numpy and the stdlib.

    clf = LmFeatureClassifier.from_bundle(Path("bundle"), threads=1)
    clf.predict_proba([("What is 2+2?", "It is 4."), ...])     # (n, n_classes)
    clf.features(pairs)                                       # (n, len(clf.feature_names))

The bundle's model.onnx maps token ids (1, T) to per-position statistics of the next token
(1, T-1, 3): its log-probability, the entropy of the LM's distribution and its rank (0 = the
LM's first choice). Fed `stats_from` (an input with a default of 0), it computes them only from
that position on, the response's: the question's positions cost no LM head. The question is
wrapped in the LM's chat template (config prompt_prefix and prompt_suffix, rendered on the host);
only the response's tokens are summarized. Every feature
also appears relative to the mean over the inputs that share its question. When a question
comes with exactly one response per class, its block of probabilities is Sinkhorn-balanced
(each class once per question) at the head's fitted power.

detect.py dispatches here for bundles whose config.json says "kind": "lm_features".
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

STATS_FROM = "stats_from"   # the input edge/lm_features/export.py adds
WORD = re.compile(r"[A-Za-z0-9']+")
SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
LIST_LINE = re.compile(r"\s*([-*\u2022]|\d+[.)])\s")
MARKS = {"comma": ",", "period": ".", "exclaim": "!", "question": "?", "colon": ":", "quote": '"',
         "star": "*", "digit": "0123456789"}
PERSONAL = {"first_person": {"i", "me", "my", "we", "our", "us", "i'm"},
            "second_person": {"you", "your", "yours", "you're"}}
TEXT_NAMES = ("log_chars", "log_words", "sentences", "words_per_sentence", "ends_sentence", "upper_rate",
              "lines", "list_lines", "type_token", "repeat_2gram", "in_question",
              *(f"rate_{m}" for m in MARKS), *PERSONAL)
LM_NAMES = ("lp_mean", "lp_std", "lp_p10", "lp_p50", "lp_p90", "ent_mean", "ent_std", "surprise_excess",
            "top1_rate", "top5_rate", "log_rank_mean", "log_tokens")
FEATURE_NAMES = (*TEXT_NAMES, *LM_NAMES, *(f"{n}_vs_question" for n in (*TEXT_NAMES, *LM_NAMES)))


def text_measures(question: str, response: str) -> list[float]:
    """TEXT_NAMES for one response."""
    words = [w.lower() for w in WORD.findall(response)]
    n = max(len(words), 1)
    sentences = len(SENTENCE_END.findall(response))
    letters = [c for c in response if c.isalpha()]
    lines = [x for x in response.splitlines() if x.strip()]
    pairs = list(zip(words, words[1:]))
    asked = {w.lower() for w in WORD.findall(question)}
    chars = max(len(response), 1)
    values = [np.log1p(len(response)), np.log1p(len(words)), sentences, len(words) / max(sentences, 1),
              float(response.rstrip()[-1:] in ".!?"), sum(c.isupper() for c in letters) / max(len(letters), 1),
              len(lines), sum(bool(LIST_LINE.match(x)) for x in lines), len(set(words)) / n,
              1 - len(set(pairs)) / len(pairs) if pairs else 0.0, sum(w in asked for w in words) / n]
    values += [sum(response.count(c) for c in chars_of) / chars for chars_of in MARKS.values()]
    values += [sum(w in vocab for w in words) / n for vocab in PERSONAL.values()]
    return [float(v) for v in values]


def lm_measures(stats: np.ndarray) -> list[float]:
    """LM_NAMES from a response's (n_tokens, 3) log-probability / entropy / rank rows."""
    if not len(stats):
        return [0.0] * len(LM_NAMES)
    logp, entropy, rank = (stats[:, i].astype(np.float64) for i in range(3))
    p10, p50, p90 = np.percentile(logp, [10, 50, 90])
    return [float(v) for v in (logp.mean(), logp.std(), p10, p50, p90, entropy.mean(), entropy.std(),
                               np.mean(-logp - entropy), np.mean(rank == 0), np.mean(rank < 5),
                               np.mean(np.log1p(rank)), np.log(len(logp)))]


def question_groups(questions: list[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        groups.setdefault(q, []).append(i)
    return groups


def relative_to_question(x: np.ndarray, questions: list[str]) -> np.ndarray:
    """Each row minus the mean of the rows that share its question."""
    out = np.zeros_like(x)
    for rows in question_groups(questions).values():
        out[rows] = x[rows] - x[rows].mean(axis=0)
    return out


def balance(probs: np.ndarray, questions: list[str], power: float, iterations: int = 50) -> np.ndarray:
    """probs ** power renormalized; a question with exactly one input per class gets its block
    scaled by rows and columns in turn until both sum to 1 (each class once per question)."""
    out = np.clip(probs, 1e-15, 1.0) ** power
    out /= out.sum(axis=1, keepdims=True)
    for rows in question_groups(questions).values():
        if len(rows) == out.shape[1]:
            block = out[rows]
            for _ in range(iterations):
                block = block / block.sum(axis=0, keepdims=True)
                block = block / block.sum(axis=1, keepdims=True)
            out[rows] = block
    return out


def tree_scores(x: np.ndarray, trees: dict) -> np.ndarray:
    """(n, K) sums of leaf values of a flattened tree ensemble (edge/lm_features/trees.py writes it):
    all trees walked at once, one level per step. Node arrays: feature, threshold, left, right
    (a child >= 0 is a node, < 0 is leaf -child-1), default_left (where a NaN goes); roots: each
    tree's first node (or leaf); tree_class: the class a tree adds to."""
    feature, threshold = np.asarray(trees["feature"]), np.asarray(trees["threshold"], dtype=np.float64)
    left, right = np.asarray(trees["left"]), np.asarray(trees["right"])
    default_left, leaf = np.asarray(trees["default_left"], dtype=bool), np.asarray(trees["leaf_value"])
    roots, tree_class = np.asarray(trees["roots"]), np.asarray(trees["tree_class"])
    state = np.broadcast_to(roots, (len(x), len(roots))).copy()          # (n, trees)
    rows = np.arange(len(x))[:, None]
    while (active := state >= 0).any():
        node = np.where(active, state, 0)
        value = x[rows, feature[node]]
        go_left = np.where(np.isnan(value), default_left[node], value <= threshold[node])
        state = np.where(active, np.where(go_left, left[node], right[node]), state)
    values = leaf[-state - 1]                                            # (n, trees)
    out = np.zeros((len(x), int(tree_class.max()) + 1))
    for k in range(out.shape[1]):
        out[:, k] = values[:, tree_class == k].sum(axis=1)
    return out


class LmFeatureClassifier:
    """config: the bundle's config.json dict; stats_fn(ids, start) -> (len(ids) - 1 - start, 3)
    (each position's statistics of the token after it, from position `start` on) replaces the
    ONNX model (the host passes its PyTorch LM that way); pair_stats_fn(question, response) ->
    (response tokens, 3) or None replaces token_stats where it has an answer (the host's cached
    statistics of the same LM)."""

    def __init__(self, config: dict, tokenizer_file: Path, model_file: Path | None = None, threads: int = 1,
                 stats_fn=None, pair_stats_fn=None):
        self.config = config
        self.labels = list(config["labels"])
        self.positive_index = int(config.get("positive_index", len(self.labels) - 1))
        self.pairs = True
        self.feature_names = list(config["feature_names"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.pair_stats_fn = pair_stats_fn
        self.stats_fn = stats_fn or (self._onnx_stats_fn(model_file, threads) if model_file else None)
        head = config.get("head") or {}          # none while the host computes training features
        self.mean, self.scale = np.asarray(head.get("mean", 0.0)), np.asarray(head.get("scale", 1.0))
        self.weight, self.bias = np.asarray(head.get("weight", 0.0)), np.asarray(head.get("bias", 0.0))

    @classmethod
    def from_bundle(cls, folder: Path, threads: int = 1) -> "LmFeatureClassifier":
        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return cls(config, folder / "tokenizer.json", folder / "model.onnx", threads)

    @staticmethod
    def _onnx_stats_fn(model_file: Path, threads: int):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 4   # fatal only: it warns of the overridable initializer; a damaged file's
        # error comes back as an exception, which the runtime says in one line
        session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        skips = STATS_FROM in {i.name for i in session.get_overridable_initializers()}

        def run(ids: list[int], start: int = 0) -> np.ndarray:
            ids_2d = np.asarray([ids], dtype=np.int64)
            feeds = {"input_ids": ids_2d, "attention_mask": np.ones_like(ids_2d)}
            if skips:
                feeds[STATS_FROM] = np.asarray([start], dtype=np.int64)
            (stats,) = session.run(["stats"], feeds)
            return np.asarray(stats[0] if skips else stats[0][start:], dtype=np.float64)
        return run

    def token_stats(self, question: str, response: str) -> np.ndarray:
        """(response tokens, 3): the statistics of each response token given the question."""
        known = self.pair_stats_fn(question, response) if self.pair_stats_fn else None
        if known is not None:
            return known
        cfg = self.config
        prompt = self.tokenizer.encode(cfg["prompt_prefix"] + question + cfg["prompt_suffix"],
                                       add_special_tokens=False).ids[-int(cfg["max_prompt_tokens"]):]
        answer = self.tokenizer.encode(response, add_special_tokens=False).ids[: int(cfg["max_response_tokens"])]
        if not answer:
            return np.zeros((0, 3))
        return self.stats_fn(prompt + answer, len(prompt) - 1)

    def features(self, inputs: list) -> np.ndarray:
        """(n, len(FEATURE_NAMES)): text and LM measures, then the same relative to the question."""
        questions = [q for q, _ in inputs]
        x = np.array([text_measures(q, r) + lm_measures(self.token_stats(q, r)) for q, r in inputs])
        return np.hstack([x, relative_to_question(x, questions)])

    def head_proba(self, x: np.ndarray, questions: list[str]) -> np.ndarray:
        head = self.config["head"]
        if head.get("kind") == "gbdt":                   # one boosted cross-entropy model per class
            z = 1.0 / (1.0 + np.exp(-tree_scores(x, head["trees"])))
        else:                                             # linear softmax
            z = (x - self.mean) / self.scale @ self.weight + self.bias               # (n, K)
            z = np.exp(z - z.max(axis=1, keepdims=True))
        probs = balance(z / z.sum(axis=1, keepdims=True), questions, float(head["power"]))
        floor = float(self.config["head"]["clip"])
        probs = np.maximum(probs, floor)
        return probs / probs.sum(axis=1, keepdims=True)

    def predict_proba(self, inputs: list, batch_size: int = 8) -> np.ndarray:
        if not inputs:
            return np.zeros((0, len(self.labels)))
        pairs = [tuple(x) for x in inputs]
        return self.head_proba(self.features(pairs), [q for q, _ in pairs])

    def logits(self, inputs: list) -> np.ndarray:
        return np.log(self.predict_proba(inputs))
