"""Multiple-choice questions in, letters out: the questions read from CSV or JSON lines, the top
letters of option scores, two members' rank blend, and the near-tie test of a device's answers
against the host's. numpy and the standard library only; copied to the device beside science.py.

    read_questions("id,prompt,A,B,C,D,E\n3,Q?,a,b,c,d,e\n", "csv", records.csv_rows)   # [("3", ("Q?", "a", "b", "c", "d", "e"))]
    top_letters([0.1, 0.5, 0.5, -1.0, 0.2])                    # "B C E": ties keep the letter order
    rank_blend([lm_scores, choice_scores], [0.5, 0.5])         # one question's blended option scores
"""
from __future__ import annotations

import json

import numpy as np

OPTIONS = ("A", "B", "C", "D", "E")


def row_ranks(values) -> np.ndarray:
    """Ranks 0..n-1 scaled to [0, 1] (1 = best), ties sharing their mean rank (scipy's "average")."""
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    ranks, i = np.empty(len(v)), 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2
        i = j + 1
    return ranks / max(1, len(v) - 1)


def rank_blend(members: list, weights: list[float]) -> np.ndarray:
    """One question's rank average of its members' option scores, as common/ensemble.py's
    rank_average computes it for a row: weighted normalized ranks, ties broken by 1e-3 of each
    member's z-scored raw scores."""
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    out = np.zeros(len(members[0]))
    for weight, m in zip(w, members):
        m = np.asarray(m, dtype=np.float64)
        out += weight * (row_ranks(m) + 1e-3 * (m - m.mean()) / (m.std() + 1e-9))
    return out


def top_letters(scores: list[float]) -> str:
    """The three best options, best first; ties keep the letter order (as the host's to_letters)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:3]
    return " ".join(OPTIONS[j] for j in order)


def swapped_within(scores: list[float], reference: list[float], margin: float) -> bool:
    """Whether every pair of options that `scores` orders differently from `reference` was within
    `margin` in `reference`: a near tie that other kernels' rounding may flip (each score may move
    by the smoke tolerance, so two within twice that can swap), not a different answer.

        swapped_within([-1.0, -2.02, -2.0], [-1.0, -2.0, -2.01], 1.0)   # True: B and C were 0.01 apart
    """
    n = len(reference)
    return all(abs(reference[i] - reference[j]) <= margin for i in range(n) for j in range(i + 1, n)
               if (scores[i] - scores[j]) * (reference[i] - reference[j]) < 0)


def as_question(item) -> tuple:
    """(prompt, A, B, C, D, E) from such a tuple or a JSON object text {"prompt", "A".."E"}."""
    if isinstance(item, str):
        record = json.loads(item)
        item = tuple(str(record[c]) for c in ("prompt", *OPTIONS))
    return tuple(item)


def read_questions(text: str, fmt: str, csv_rows) -> list[tuple]:
    """(id, (prompt, A, B, C, D, E)) per question from a CSV with id,prompt,A..E or JSON lines;
    csv_rows: the runtime's CSV reader (records.csv_rows), so that every bundle reads a CSV alike."""
    columns = ("prompt", *OPTIONS)
    if fmt == "csv":
        return _csv_questions(csv_rows(text), columns)
    out = []
    for number, line in enumerate(text.split("\n"), 1):   # not splitlines: a question may hold U+2028
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"line {number}: not valid JSON (want an object with prompt and A-E)") from None
        if not isinstance(item, dict) or not set(columns) <= set(item):
            raise ValueError(f"line {number}: want a JSON object with prompt and A-E")
        where = f"line {number}"
        out.append((item.get("id", len(out)), _filled(tuple(_text(item[c], c, where) for c in columns), where)))
    if not out:
        raise ValueError("no questions in the input")
    return out


def _csv_questions(rows: list[tuple[int, list[str]]], columns: tuple) -> list[tuple]:
    """read_questions' CSV, from (line, fields) rows: every row as wide as the header."""
    header = [name.strip() for name in rows[0][1]] if rows else []
    twice = sorted({name for name in header if name in ("id", *columns) and header.count(name) > 1})
    if twice:
        raise ValueError(f"the CSV header names {', '.join(twice)} more than once: which column holds it?")
    if not set(columns) <= set(header) or len(rows) < 2:
        raise ValueError("CSV input needs a header with prompt,A,B,C,D,E and at least one row")
    key = next((i for i, name in enumerate(header) if name.lower() == "id"), None)
    out = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise ValueError(f"CSV line {line} has {len(row)} fields, the header has {len(header)} (a comma in "
                             f"a text that is not quoted?)")
        record = dict(zip(header, row))
        question = _filled(tuple(record[c] for c in columns), f"CSV line {line}")
        out.append((len(out) if key is None else row[key], question))
    return out


def _text(value, name: str, where: str) -> str:
    """A JSON field as a question's text: a string or a number as written; null as empty (refused
    by _filled); a list, an object or true/false is a ValueError."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{where}: {name} is {json.dumps(value)[:40]}, not text")
    return str(value)


def _filled(question: tuple, where: str) -> tuple:
    """The question when its prompt and every option hold text; else a ValueError naming `where`."""
    empty = [name for name, text in zip(("prompt", *OPTIONS), question) if not text.strip()]
    if empty:
        raise ValueError(f"{where}: empty {', '.join(empty)} (a question needs a prompt and five options A-E)")
    return question
