"""Whose runs: the author a run records, and teammates' results stores read beside your own.

    from common.team_results import run_author, parse_store, read_team_runs
    run_author()                                       # 'Ada Lovelace' (KLLM_AUTHOR, git's user.name, login)
    stores = [parse_store("alice=~/shared/alice/runs.jsonl"), parse_store("/mnt/team/bob")]
    runs, lines = read_team_runs(stores)               # yours first, then each store's; one line per store

A teammate's store is their `results/runs.jsonl`, copied or shared as it is (a folder holding
one is read too). Each run counts as its recorded author's; a run recorded before authors existed
counts as its store's: yours as you, a teammate's under the store's name (NAME=PATH, else the
store's file or folder name). A run found in two stores (a store copied into another) is shown
once, from the first store read.
"""
from __future__ import annotations

import getpass
import json
import os
import subprocess
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from common.errors import UserError
from common.paths import repo_root, results_path
from common.results import RunRecord, apply_score_update, read_runs

YOU = "you"     # your store's runs when no author name is known

AUTHOR_LIMIT = 40   # characters: a name, not a note


def run_author() -> str:
    """Who is running: KLLM_AUTHOR, else git's user.name in this checkout, else the login name; ""
    when none is known. A KLLM_AUTHOR that is no name (a control character, over 40 characters) is a
    UserError, so `kllm submit` says so before its run.

        run_author()   # 'Ada Lovelace'
    """
    given = os.environ.get("KLLM_AUTHOR", "").strip()
    if given:
        if not _is_name(given):
            raise UserError(f"KLLM_AUTHOR={given!r} is not a name: at most {AUTHOR_LIMIT} characters, "
                            "no control characters (a line break or a terminal escape)")
        return given
    try:
        done = subprocess.run(["git", "config", "user.name"], cwd=repo_root(), capture_output=True, text=True,
                              timeout=10)
        name = done.stdout.strip() if done.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        name = ""
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):          # a container user without a passwd entry
            name = ""
    return name if _is_name(name) else ""


HIDDEN = ("Cc", "Cf", "Zl", "Zp")    # control, format (a right-to-left override) and line characters
NOT_RECORDED = "(not recorded)"    # a shared store's runs from before authors were recorded


def _is_name(text: str) -> bool:
    return 0 < len(text) <= AUTHOR_LIMIT and text == text.strip() and not any(
        unicodedata.category(ch) in HIDDEN for ch in text)


def shown_author(recorded) -> str:
    """A recorded author as the board shows it: hidden characters dropped, blanks around it too, cut
    to AUTHOR_LIMIT characters; "" for none (a hand-edited store holds what it holds).

        shown_author(" dave\u202e ")   # 'dave'
    """
    text = "".join(ch for ch in str(recorded or "") if unicodedata.category(ch) not in HIDDEN).strip()
    return text[:AUTHOR_LIMIT].strip()


@dataclass(frozen=True)
class Store:
    """A results store and the name its runs without an author go under."""

    name: str
    path: Path


def parse_store(text: str) -> Store:
    """`NAME=PATH` or `PATH` (named after the store's file, or its folder for a runs.jsonl) -> Store.
    PATH is a store file or a folder holding runs.jsonl; UserError when there is none.

        parse_store("alice=/tmp/alice.jsonl")    # Store('alice', PosixPath('/tmp/alice.jsonl'))
    """
    head, sep, tail = text.partition("=")
    if sep and "/" not in head and not Path(text.strip()).expanduser().exists():   # NAME=PATH, not a path with '='
        name, path_text = head.strip(), tail.strip()
        if not _is_name(name):
            raise UserError(f"--with {text!r}: the name before '=' must be 1-{AUTHOR_LIMIT} characters, "
                            "no control or formatting characters")
    else:
        name, path_text = "", text.strip()
    if not path_text:
        raise UserError(f"--with {text!r}: no path to a results store (runs.jsonl, or a folder holding one)")
    path = Path(path_text).expanduser()
    if path.is_dir():
        path = path / "runs.jsonl"
    if not path.is_file():
        raise UserError(f"--with {text!r}: no results store at {path} (give a runs.jsonl, or a folder holding one)")
    if not name:    # a checkout's results/runs.jsonl is named after the checkout
        folder = path.resolve().parent if path.name == "runs.jsonl" else None
        folder = folder.parent if folder is not None and folder.name == "results" else folder
        name = shown_author(folder.name if folder is not None else path.stem) or str(path)[-AUTHOR_LIMIT:]
    _check_store(path, text)
    return Store(name, path)


def check_store_names(stores: list[Store]) -> None:
    """UserError when two stores would give unattributed runs one name (two checkouts' results/)."""
    names = [_same_name(s.name) for s in stores]
    twice = sorted({s.name for s, n in zip(stores, names)
                    if names.count(n) > 1 and len({t.path for t in stores if _same_name(t.name) == n}) > 1})
    if twice:
        raise UserError(f"--with: two stores are both named {twice[0]!r} (their runs without an author would "
                        f"be one person's): give each a name, NAME=PATH")


def _check_store(path: Path, given: str) -> None:
    """UserError when the file's first line is not a results-store line (a JSON object)."""
    try:
        with open(path, "rb") as f:
            first = next((line for line in f if line.strip()), b"")
        entry = json.loads(first.decode("utf-8").removeprefix("\ufeff")) if first else {}
    except (OSError, ValueError, UnicodeDecodeError) as err:
        if isinstance(err, OSError):
            raise UserError(f"--with {given!r}: cannot read {path}: {err.strerror or err}") from None
        entry = None
    if not isinstance(entry, dict) or (entry and "run_id" not in entry):
        raise UserError(f"--with {given!r}: {path} is not a results store (runs.jsonl: one JSON object a line, "
                        "as `make submit` appends them)")


def read_team_runs(stores: list[Store], own: Path | None = None,
                   competition: str | None = None) -> tuple[list[RunRecord], list[str]]:
    """(every run of your store, then of each teammate's, each once; one line per store read:
    where, whose, how many runs by whom). A run without an author takes its store's name; in your
    own store, yours, unless the store holds other authors' runs (a shared one): then NOT_RECORDED.
    Authors that differ only in case or Unicode form are one author, spelled as first read. A run
    read again from a later store, or named by a store's Kaggle score lines only, gains the Kaggle
    scores the first copy lacks. `competition` (a slug) keeps only its runs, in the counts too."""
    check_store_names(stores)
    own = Path(own or results_path())
    me = run_author() or YOU
    spelled: dict[str, str] = {}
    runs: dict[str, RunRecord] = {}
    orphans: list[tuple[int, Path, dict]] = []
    lines = []
    for index, (name, path) in enumerate([(me, own)] + [(s.name, s.path) for s in stores]):
        unmatched: list = []
        found = read_runs(path, unmatched=unmatched)
        orphans += [(index, *update) for update in unmatched]
        if index == 0 and {_same_name(shown_author(r.author)) for r in found} - {"", _same_name(me)}:
            name = NOT_RECORDED
        found = [r for r in found if competition is None or r.competition == competition]
        new = [r for r in found if r.run_id not in runs]
        for run in found:
            if run.run_id in runs:
                _add_kaggle_scores(runs[run.run_id], run)
        for run in new:
            author = shown_author(run.author) or name
            run.author = spelled.setdefault(_same_name(author), author)
            runs[run.run_id] = run
        lines.append(f"store: {path} ({'yours' if index == 0 else name}: {_counts(new, len(found) - len(new))}")
    left, copies = Counter(), {}
    for index, path, update in orphans:      # Kaggle scores filed in one store for runs kept in another
        kept = runs.get(update["run_id"])
        if kept is None:
            left[index] += 1
            continue
        copy = copies.setdefault((index, kept.run_id), replace(kept, public=None, private=None, kaggle_ref=None))
        apply_score_update(copy, update, path)           # a store's later line wins, as within read_runs
    for (_, run_id), copy in copies.items():
        _add_kaggle_scores(runs[run_id], copy)
    for index, count in left.items():
        if competition is None:      # with --comp, a score for a run of another competition is not news
            lines[index] += f", {count} Kaggle score line(s) for runs in no store read"
    return list(runs.values()), [line + ")" for line in lines]


def _same_name(author: str) -> str:
    return unicodedata.normalize("NFKC", author).casefold()


def _add_kaggle_scores(kept: RunRecord, copy: RunRecord) -> None:
    for key in ("public", "private", "kaggle_ref"):
        if getattr(kept, key) is None and getattr(copy, key) is not None:
            setattr(kept, key, getattr(copy, key))


def _counts(new: list[RunRecord], again: int) -> str:
    """'5 run(s): dave 4, bob 1, 2 already read from another store'."""
    by = Counter(r.author for r in new)
    text = f"{len(new)} run(s)" + (": " + ", ".join(f"{a} {n}" for a, n in by.most_common()) if by else "")
    return text + (f", {again} already read from another store" if again else "")
