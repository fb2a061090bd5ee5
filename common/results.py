"""The results store: one append-only JSON-lines file, `results/runs.jsonl`.

    from common.results import RunRecord, append_run, read_runs, update_scores, new_run_id, git_commit
    append_run(RunRecord(run_id=new_run_id(), competition="science-exam", variant="tfidf",
                         metric="map@3", cv=0.71, cv_std=0.02, folds=5, higher_is_better=True,
                         data_source="sample", commit=git_commit(), seed=42, wall_s=3.2,
                         peak_mem_mb=410.0, time=utc_now(), kind="cv", encoder="", panel=""))
    update_scores(run_id, public=0.70, private=0.69)   # appends a "scores" line
    set_kaggle_ref(run_id, "38811234")                  # appends a "scores" line with the ref
    read_runs()                                         # runs with their latest scores merged in

Each line is one JSON object with a "type": "run" (a RunRecord) or "scores" (public/private
scores fetched from Kaggle for an earlier run_id). Lines are only ever appended, in one write
each, followed by fsync, so a crash can tear at most the line being written. `update_scores`
appends a "scores" line instead of rewriting the file: earlier bytes are never touched.

A torn line (a crash mid-write) is sealed with a newline before the next append, and skipped
with one warning on stderr when read.
"""
from __future__ import annotations

import json
import math
import secrets
import subprocess
import sys
import unicodedata
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

from common.atomic import append_whole
from common.errors import UserError
from common.paths import repo_root, results_path


@dataclass
class RunRecord:
    """One run of one solution variant on one competition.

    cv / cv_std / folds: the validation score (mean, spread, fold count) in `metric` units.
    kind: how that score was obtained: "cv" (held-out folds), "holdout" (a held-out split) or
    "panel" (judged by a local judge panel). Records written before kinds existed read as "cv".
    encoder: the sentence encoder a similarity metric used (sharpened cosine), else "".
    panel: the judge panel of a "panel" score (`common.llm.judges.panel_id`), else "".
    Scores of different kinds, encoders or panels are never ranked together (`common.leaderboard`).
    data_source: "sample" (committed sample: not comparable with Kaggle), "kaggle" (real files) or
    "custom" (a folder given with --data), with "+extra" when extra labeled rows joined train.
    data_id: 12 hex digits naming the exact files (`common.data.files_fingerprint` of the tables
    read, and of the extra rows' file): runs on two different custom folders or extra files are
    never ranked together. "" in records written before it existed.
    metric_version: the metric's definition version (`common.metrics.Metric.version`); records
    written before versions existed read as 1.
    public / private: Kaggle leaderboard scores once fetched; kaggle_ref: the submission id or
    kernel "owner/slug@version" it was submitted as.
    author: who ran it (`common.team_results.run_author`: KLLM_AUTHOR, git's user.name or the login name); "" in
    records written before it existed, which count as the store owner's (`common.team_results`).
    """

    run_id: str
    competition: str
    variant: str
    metric: str
    cv: float
    cv_std: float
    folds: int
    higher_is_better: bool
    data_source: str
    commit: str
    seed: int
    wall_s: float
    peak_mem_mb: float
    time: str
    public: float | None = None
    private: float | None = None
    kaggle_ref: str | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)
    kind: str = "cv"
    encoder: str = ""
    panel: str = ""
    data_id: str = ""
    metric_version: int = 1
    author: str = ""


_RUN_FIELDS = {f.name for f in fields(RunRecord)}
_REQUIRED_FIELDS = [f.name for f in fields(RunRecord) if f.default is MISSING and f.default_factory is MISSING]
_TEXT_FIELDS = [f.name for f in fields(RunRecord) if f.type == "str"]


def spread(std: float | None, folds: int) -> float | None:
    """A score's spread: its std over two or more folds; None for a judge panel's or one split's."""
    return std if folds > 1 else None


def spread_text(std: float | None, folds: int, sep: str = " ± ") -> str:
    """" ± 0.0123" for a score with a spread, else "" (the leaderboard, `make submit`'s table and
    Kaggle messages all say it so).

        spread_text(0.01, 5)   # " ± 0.0100"
        spread_text(0.0, 0)    # ""
    """
    value = spread(std, folds)
    return "" if value is None else f"{sep}{value:.4f}"


def utc_now() -> str:
    """Current time as ISO 8601 UTC, seconds precision: '2026-11-22T13:40:00Z'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_ISSUED_RUN_IDS: set[str] = set()


def new_run_id() -> str:
    """A sortable id: UTC timestamp plus 8 random hex digits, e.g. '20261122-134000-a1b2c3d4'.

    Never repeats within a process (a repeat is drawn again); across processes two runs started
    in the same second collide with odds of about 1 in 8.6e9 per pair.
    """
    while True:
        run_id = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"
        if run_id not in _ISSUED_RUN_IDS:
            _ISSUED_RUN_IDS.add(run_id)
            return run_id


def git_commit() -> str:
    """Short commit of the repository, with '+dirty' when tracked files changed; 'unknown' outside git."""
    def run(*args):
        return subprocess.run(["git", *args], cwd=repo_root(), capture_output=True, text=True, timeout=10)

    try:
        head = run("rev-parse", "--short=12", "HEAD")
        if head.returncode != 0:
            return "unknown"
        dirty = run("status", "--porcelain", "--untracked-files=no").stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _append_lines(objs: list[dict], path: Path) -> None:
    """Append `objs` as JSON lines, all or none (common.atomic.append_whole: locked, fsynced, cut back
    on a failure, so no torn line or half of a run's records stays behind)."""
    payload = b"".join((json.dumps(obj, sort_keys=True, allow_nan=False) + "\n").encode("utf-8") for obj in objs)
    append_whole(path, payload, "the results store", "KLLM_RESULTS moves the store")


def append_run(record: RunRecord, path: Path | None = None) -> None:
    """Append one run as one JSON line (flushed and fsynced)."""
    append_runs([record], path)


def append_runs(records: list[RunRecord], path: Path | None = None) -> None:
    """Append a run's records (one per variant) together: all of them, or none on a failure."""
    _append_lines([{"type": "run", **asdict(record)} for record in records], Path(path or results_path()))


def update_scores(run_id: str, public: float | None, private: float | None, path: Path | None = None) -> None:
    """Record Kaggle scores for a run by appending a "scores" line; read_runs merges it (latest wins)."""
    entry = {"type": "scores", "run_id": run_id, "public": public, "private": private, "time": utc_now()}
    _append_lines([entry], Path(path or results_path()))


def set_kaggle_ref(run_id: str, kaggle_ref: str, path: Path | None = None) -> None:
    """Record which Kaggle submission (id, or kernel owner/slug@version) a run was sent as."""
    entry = {"type": "scores", "run_id": run_id, "kaggle_ref": kaggle_ref, "time": utc_now()}
    _append_lines([entry], Path(path or results_path()))


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def read_runs(path: Path | None = None, unmatched: list | None = None) -> list[RunRecord]:
    """Every run in file order, with the latest score update of each merged in.

    A line that is not a complete JSON object (a torn write) is skipped with a warning on stderr.
    A missing file reads as no runs. `unmatched` (a list) gains each score update whose run is not
    in this file (a teammate's store may hold Kaggle scores for runs kept in another store), to
    pass to `apply_score_update` once those runs are read.
    """
    path = Path(path or results_path())
    if not path.is_file():
        return []
    runs: dict[str, RunRecord] = {}
    updates: list[dict] = []
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")     # a BOM an editor added
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line.decode("utf-8"))
            if not isinstance(entry, dict):
                _warn(f"{path}: skipped line {number}: it is JSON but not an object (a run is one)")
                continue
            line_type = entry.pop("type", "run")
            if line_type == "run":
                missing = [name for name in _REQUIRED_FIELDS if name not in entry]
                if missing:
                    _warn(f"{path}: skipped line {number}: it has no {', '.join(missing)}")
                    continue
                if entry.get("author", "") is None:    # a hand-edited store: no author recorded
                    entry["author"] = ""
                record = RunRecord(**{k: v for k, v in entry.items() if k in _RUN_FIELDS})
                bad = _bad_field(record)
                if bad:
                    _warn(f"{path}: skipped line {number}: its {bad}")
                    continue
                runs[record.run_id] = record
            elif line_type == "scores":
                updates.append(entry)
        except (ValueError, TypeError, UnicodeDecodeError):
            torn = "last line" if not raw.endswith(b"\n") and number == raw.count(b"\n") + 1 else f"line {number}"
            _warn(f"{path}: skipped unreadable {torn} (torn write?)")
    for entry in updates:  # applied after all runs: an update may be written before its run
        record = runs.get(entry.get("run_id"))
        if record is not None:
            apply_score_update(record, entry, path)
        elif unmatched is not None and isinstance(entry.get("run_id"), str):
            unmatched.append((path, entry))
    return list(runs.values())


def apply_score_update(record: RunRecord, entry: dict, path: Path) -> None:
    """Merge a `scores` line's Kaggle scores into its run; a score its metric cannot give is
    skipped with a warning naming the store."""
    for key in ("public", "private", "kaggle_ref"):
        if key in entry and (key == "kaggle_ref" or _is_number(entry[key], optional=True)):
            outside = key != "kaggle_ref" and _outside(record.metric, entry[key])
            if outside:
                _warn(f"{path}: skipped the {key} score of run {record.run_id}: {entry[key]:g} is {outside}")
                continue
            setattr(record, key, entry[key])


def _outside(metric_name: str, value) -> str:
    """'outside map@3's range [0, 1]' for a score its metric cannot give, else ""."""
    from common.metrics import METRICS

    metric = METRICS.get(metric_name)
    if metric is None or value is None or metric.within(value):
        return ""
    return f"outside {metric.name}'s range [{metric.bounds[0]:g}, {metric.bounds[1]:g}]"


def _is_number(value, optional: bool = False) -> bool:
    if value is None:
        return optional
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _bad_field(record: RunRecord) -> str:
    """What is wrong with a hand-edited or damaged record's numbers or details, or ""."""
    for name, optional in (("cv", False), ("cv_std", True), ("folds", False), ("public", True), ("private", True)):
        if not _is_number(getattr(record, name), optional):
            return f"{name} is not a finite number"
    for name in _TEXT_FIELDS:
        value = getattr(record, name)
        if not isinstance(value, str):
            return f"{name} is not text"
        if name != "note" and any(unicodedata.category(ch) == "Cc" for ch in value):
            return f"{name} holds control characters (a terminal escape or a line break)"
    if record.kaggle_ref is not None and not isinstance(record.kaggle_ref, str):
        return "kaggle_ref is not text"
    if (record.cv_std or 0) < 0 or record.folds < 0:
        return "cv_std or folds is negative"
    for name in ("cv", "public", "private"):
        outside = _outside(record.metric, getattr(record, name))
        if outside:
            return f"{name} {getattr(record, name):g} is {outside}"
    from common.solution import VALIDATION_KINDS

    if record.kind not in VALIDATION_KINDS:
        return f"kind {record.kind!r} is none of {', '.join(VALIDATION_KINDS)}"
    if not isinstance(record.higher_is_better, bool):
        return "higher_is_better is not true or false"
    version = record.metric_version
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return "metric_version is not a whole number of at least 1"
    if not isinstance(record.extra, dict):
        return "extra is not an object"
    if not isinstance(record.extra.get("fast", False), bool):
        return "extra.fast is not true or false"
    return ""


def find_run(run_id: str, path: Path | None = None, runs: list[RunRecord] | None = None,
             where: str = "") -> RunRecord:
    """The run with this id, or a unique id prefix, in the store at `path` (or among `runs`, read
    from the stores `where` names); UserError when none or several match."""
    runs = read_runs(path) if runs is None else runs
    exact = [r for r in runs if r.run_id == run_id]
    matches = exact or [r for r in runs if r.run_id.startswith(run_id)]
    if len(matches) != 1:
        what = "no run" if not matches else f"{len(matches)} runs"
        raise UserError(f"{what} with id {run_id!r} in {where or path or results_path()}")
    return matches[0]
