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
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from common.paths import repo_root, results_path
from common.results import RunRecord, read_runs

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


def _is_name(text: str) -> bool:
    return 0 < len(text) <= AUTHOR_LIMIT and not any(unicodedata.category(ch) == "Cc" for ch in text)


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
    if sep and "/" not in head:                    # NAME=PATH; a path may hold '=' after a '/'
        name, path_text = head.strip(), tail.strip()
        if not _is_name(name):
            raise UserError(f"--with {text!r}: the name before '=' must be 1-{AUTHOR_LIMIT} characters, "
                            "no control characters")
    else:
        name, path_text = "", text.strip()
    if not path_text:
        raise UserError(f"--with {text!r}: no path to a results store (runs.jsonl, or a folder holding one)")
    path = Path(path_text).expanduser()
    if path.is_dir():
        path = path / "runs.jsonl"
    if not path.is_file():
        raise UserError(f"--with {text!r}: no results store at {path} (give a runs.jsonl, or a folder holding one)")
    if not name:
        name = path.parent.name if path.name == "runs.jsonl" and path.parent.name not in ("", "results") else path.stem
        name = name if _is_name(name) else str(path)[-AUTHOR_LIMIT:]
    _check_store(path, text)
    return Store(name, path)


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


def read_team_runs(stores: list[Store], own: Path | None = None) -> tuple[list[RunRecord], list[str]]:
    """(every run of your store, then of each teammate's, each once; one line per store read:
    where, whose, how many runs). A run without an author takes its store's name."""
    own = Path(own or results_path())
    me = run_author() or YOU
    runs: dict[str, RunRecord] = {}
    lines = []
    for name, path in [(me, own)] + [(s.name, s.path) for s in stores]:
        found = read_runs(path)
        new = [r for r in found if r.run_id not in runs]
        for run in new:
            run.author = run.author or name
            runs[run.run_id] = run
        again = f", {len(found) - len(new)} already read from another store" if len(new) < len(found) else ""
        lines.append(f"store: {path} ({name if path != own else 'yours'}: {len(new)} run(s){again})")
    return list(runs.values()), lines
