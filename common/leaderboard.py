"""The leaderboard: every competition and variant from the results store, best first.

    from common.leaderboard import build_leaderboard, format_leaderboard, format_comparison
    boards = build_leaderboard(read_runs(), all_competitions())
    print(format_leaderboard(boards))
    print(format_comparison(find_run("2026..-a1b2c3"), find_run("2026..-d4e5f6")))

Runs are ranked only against comparable runs: a competition's board is split into groups, one
per (metric and its definition's version, data source, kind of score and a held-out split's name
(the prefix of its variants' names, e.g. detect-ai-text's heldout_generator/ and heldout_prompt/),
encoder, judge panel, quick or full settings) (`GroupKey`), and rows are ranked within their group, never across groups. A `--fast` run (smaller
settings and fewer folds, recorded as `extra.fast`) is a quick check: it is ranked only beside
other quick runs. Custom folders (--data) and extra rows also split by
the files themselves (the run's `data_id`): two different folders are two groups. Kinds: "cv"
(held-out folds), "holdout" (a held-out split), "panel" (a local judge panel); a
sharpened-cosine score depends on its encoder, a judge score on its panel. Groups on real Kaggle files come before groups on the committed
sample, whose scores are never comparable with a leaderboard.

One row per variant and group: its best run by score, with how many runs it has, plus its best
Kaggle-scored run when that is another one. Better is higher or lower as the metric says
(`common.metrics.get_metric`). Each competition whose registration carries
`extra["first_place"]` gets a reference row: the real competition's 1st-place private score.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from common.errors import UserError
from common.registry import Competition
from common.results import RunRecord, spread
from common.solution import VALIDATION_KINDS

REFERENCE_LABEL = "* 1st place, real LB"
REFERENCE_NOTE = ("* the real competition's 1st-place private score on Kaggle: a real-leaderboard figure, "
                  "not comparable with scores on the sample data")
GROUP_NOTE = ("groups: rows are ranked only within their group (same metric, data, kind of score and split, encoder or "
              "judge panel, full or --fast settings, and the metric's definition); scores of different groups are not comparable and never ranked against each other")
KINDS = VALIDATION_KINDS
CELL_WIDTH = 60                     # --compare cuts longer values
FIXED_DATA = ("sample", "kaggle")   # the same files for every run: the source alone names them


@dataclass(frozen=True)
class GroupKey:
    """What makes two scores comparable. `GroupKey.of(run)`; old records without a kind are "cv"."""

    metric: str
    data_source: str
    kind: str = "cv"
    encoder: str = ""
    panel: str = ""
    data_id: str = ""   # only for data other than the committed sample and Kaggle's own files
    fast: bool = False  # a --fast run: smaller settings, its own folds
    metric_version: int = 1
    split: str = ""     # a "holdout" score's split: its variant's prefix ("heldout_prompt/tfidf" -> heldout_prompt)

    @classmethod
    def of(cls, run: RunRecord) -> GroupKey:
        data_id = "" if run.data_source in FIXED_DATA else (run.data_id or "")
        fast = bool((run.extra or {}).get("fast"))
        kind = run.kind or "cv"
        name = run.variant
        experiment = (run.extra or {}).get("experiment")
        if experiment and name.startswith(f"{experiment}/"):
            name = name[len(experiment) + 1:]                   # "tfidf_only/heldout_prompt/x" -> "heldout_prompt/x"
        split = name.split("/", 1)[0] if kind == "holdout" and "/" in name else ""
        return cls(run.metric, run.data_source, kind, run.encoder or "", run.panel or "", data_id, fast,
                   run.metric_version or 1, split)

    def superseded(self) -> bool:
        """Scored by an older definition of its metric than the registry's."""
        return self.metric_version < metric_version(self.metric)

    def label(self, board_metric: str = "") -> str:
        """'sample data, cv (held-out folds), encoder=minilm'; 'custom data 3fa2c1d04b9e, cv ...'."""
        parts = [] if self.metric == board_metric else [f"metric {self.metric}"]
        data = f"{self.data_source} data" + (f" {self.data_id}" if self.data_id else "")
        parts += [data, KINDS.get(self.kind, self.kind)]
        parts += [f"split={self.split}"] if self.split else []
        parts += [f"encoder={self.encoder}"] if self.encoder else []
        parts += [f"panel={self.panel}"] if self.panel else []
        parts += ["--fast settings (a quick check)"] if self.fast else []
        if self.superseded():
            parts.append(f"metric version {self.metric_version} (superseded: an older definition)")
        elif self.metric_version > metric_version(self.metric):     # a teammate's newer checkout
            parts.append(f"metric version {self.metric_version} (newer than this checkout's "
                         f"{metric_version(self.metric)}: update to rank it)")
        return ", ".join(parts)

    def order(self) -> tuple:
        kind_rank = list(KINDS).index(self.kind) if self.kind in KINDS else len(KINDS)
        return (self.superseded(), self.data_source != "kaggle", self.data_source, self.data_id, self.fast, kind_rank,
                self.kind, self.split, self.metric, self.encoder, self.panel, -self.metric_version)


@dataclass
class LeaderboardRow:
    variant: str
    data_source: str
    runs: int
    cv: float | None
    cv_std: float | None
    public: float | None = None
    private: float | None = None
    run_id: str = ""
    commit: str = ""
    author: str = ""    # set on a board by author (a team's stores): whose run it is


@dataclass
class ScoreGroup:
    """Rows whose scores are comparable, best first."""

    key: GroupKey
    higher_is_better: bool
    rows: list[LeaderboardRow] = field(default_factory=list)


@dataclass
class CompetitionBoard:
    slug: str
    metric: str
    higher_is_better: bool
    groups: list[ScoreGroup] = field(default_factory=list)
    first_place: float | None = None

    @property
    def rows(self) -> list[LeaderboardRow]:
        """Every row, group after group (a row is ranked only within its group)."""
        return [row for group in self.groups for row in group.rows]

    def reference_row(self) -> LeaderboardRow | None:
        if self.first_place is None:
            return None
        return LeaderboardRow(variant=REFERENCE_LABEL, data_source="kaggle LB", runs=0, cv=None, cv_std=None,
                              private=self.first_place)


def _registered(metric: str):
    """The metric registry's entry for `metric`, or None for a metric it does not know."""
    try:
        from common.metrics import get_metric

        return get_metric(metric)
    except (ImportError, UserError):
        return None


def metric_direction(metric: str, fallback: bool = True) -> bool:
    """True when a higher score is better, from the metric registry; `fallback` for unknown metrics."""
    entry = _registered(metric)
    return fallback if entry is None else entry.higher_is_better


def metric_version(metric: str) -> int:
    """The registry's current version of a metric (1 for a metric it does not know)."""
    entry = _registered(metric)
    return 1 if entry is None else entry.version


def _best(runs: list[RunRecord], higher: bool) -> RunRecord:
    # best CV; among equals the newest run
    return max(runs, key=lambda r: ((r.cv if higher else -r.cv), r.time))


def _best_scored(runs: list[RunRecord], higher: bool) -> RunRecord:
    score = lambda r: r.private if r.private is not None else r.public
    return max(runs, key=lambda r: ((score(r) if higher else -score(r)), r.time))


def build_leaderboard(runs: list[RunRecord], competitions: list[Competition],
                      all_runs: bool = False, by_author: bool = False) -> list[CompetitionBoard]:
    """A board per registered competition (and per unregistered one found in the runs). by_author:
    one row per variant and author (a team's runs, `common.team_results`), each naming its author."""
    boards: dict[str, CompetitionBoard] = {}
    for comp in competitions:
        boards[comp.slug] = CompetitionBoard(comp.slug, comp.metric, metric_direction(comp.metric),
                                             first_place=comp.extra.get("first_place"))
    for run in runs:
        if run.competition not in boards:
            boards[run.competition] = CompetitionBoard(run.competition, run.metric,
                                                       metric_direction(run.metric, run.higher_is_better))
    for slug, board in boards.items():
        by_key: dict[GroupKey, list[RunRecord]] = {}
        for run in (r for r in runs if r.competition == slug):
            by_key.setdefault(GroupKey.of(run), []).append(run)
        for key in sorted(by_key, key=GroupKey.order):
            higher = metric_direction(key.metric, by_key[key][0].higher_is_better)
            board.groups.append(_group(key, by_key[key], higher, all_runs, by_author))
    return list(boards.values())


def _group(key: GroupKey, runs: list[RunRecord], higher: bool, all_runs: bool, by_author: bool) -> ScoreGroup:
    group = ScoreGroup(key, higher)
    by_variant: dict[tuple, list[RunRecord]] = {}
    for run in runs:
        by_variant.setdefault((run.run_id if all_runs else run.variant, run.author if by_author else ""), []).append(run)
    for mine in by_variant.values():
        shown = [_best(mine, higher)]
        scored = [r for r in mine if r.public is not None or r.private is not None]
        if scored and shown[0] not in scored:  # keep the Kaggle scores of the variant visible
            shown.append(_best_scored(scored, higher))
        for run in shown:
            group.rows.append(LeaderboardRow(run.variant, run.data_source, len(mine), run.cv, spread(run.cv_std, run.folds),
                                             run.public, run.private, run.run_id, run.commit,
                                             run.author if by_author else ""))
    sign = 1 if higher else -1
    group.rows.sort(key=lambda r: -sign * r.cv)
    return group


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_leaderboard(boards: list[CompetitionBoard]) -> str:
    """A plain-text table, one block per competition, one titled section per group of comparable
    scores; with a "by" column when the rows name their authors (`build_leaderboard(by_author=True)`)."""
    by = any(row.author for board in boards for row in board.rows)
    header = ("variant",) + (("by",) if by else ()) + ("data", "runs", "score ± std", "public", "private", "run id", "commit")
    lines = []
    for board in boards:
        direction = "higher is better" if board.higher_is_better else "lower is better"
        lines.append(f"{board.slug}  [{board.metric}, {direction}]")
        if len(board.groups) > 1:
            lines.append(f"  {len(board.groups)} groups, each ranked on its own: different data, kinds of "
                         "score, encoders, panels, settings or metric versions are not comparable")
        table: list[tuple[str, ...] | str] = [header]
        for group in board.groups:
            table.append(f"-- {group.key.label(board.metric)}")
            for row in group.rows:
                score = _num(row.cv) + ("" if row.cv_std is None else f" ± {_num(row.cv_std)}")
                table.append((row.variant,) + ((row.author,) if by else ()) + (
                    row.data_source, str(row.runs), score, _num(row.public), _num(row.private), row.run_id, row.commit))
        if not board.groups:
            table.append(("(no runs yet)",) + ("",) * (len(header) - 1))
        reference = board.reference_row()
        if reference:
            table.append((REFERENCE_LABEL,) + (("",) if by else ()) + (
                reference.data_source, "", "", "", f"{reference.private:g}", "", ""))
        cells = [r for r in table if isinstance(r, tuple)]
        widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
        for row in table:
            text = row if isinstance(row, str) else "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
            lines.append("  " + text)
        lines.append("")
    lines.append("data: 'sample' = committed sample files (validation scores only, not comparable with Kaggle); "
                 "'kaggle' = real competition files; '+extra' = trained and validated with extra labeled rows "
                 "(--set extra_train), another set of validation rows; 'custom' = a folder given with --data (the "
                 "group's 12 hex digits name its files)")
    lines.append(GROUP_NOTE)
    if any(b.first_place is not None for b in boards):
        lines.append(REFERENCE_NOTE)
    return "\n".join(lines)


@dataclass
class FieldDiff:
    name: str
    a: object
    b: object
    note: str = ""


def _flat(run: RunRecord) -> dict:
    """The record's fields, its `extra` dict spread out one level ("extra.options", ...)."""
    fields = asdict(run)
    extra = fields.pop("extra") or {}
    return {**fields, **{f"extra.{key}": value for key, value in extra.items()}}


def compare_runs(a: RunRecord, b: RunRecord) -> list[FieldDiff]:
    """The fields where two runs differ (each key of `extra` on its own, "extra.options", a key
    one run lacks shown as None); score fields say which run is better."""
    higher = metric_direction(a.metric, a.higher_is_better)
    left, right = _flat(a), _flat(b)
    diffs = []
    for name in dict.fromkeys([*left, *right]):
        left.setdefault(name, None)
        right.setdefault(name, None)
        if name in ("run_id",) or left[name] == right[name]:
            continue
        note = ""
        if name in ("cv", "public", "private") and None not in (left[name], right[name]):
            delta = right[name] - left[name]
            better = (delta > 0) == higher
            note = f"B-A {delta:+.4f} ({'B' if better else 'A'} better)" if delta else ""
            if GroupKey.of(a) != GroupKey.of(b) or a.competition != b.competition:
                note += " (different competition, data, kind, encoder, panel, settings or metric version: not comparable)"
        diffs.append(FieldDiff(name, left[name], right[name], note.strip()))
    return diffs


def _cell(value, width: int = CELL_WIDTH) -> str:
    text = str(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def format_comparison(a: RunRecord, b: RunRecord) -> str:
    """A field / A / B / note table of the differences; values longer than CELL_WIDTH characters
    are cut (the whole records are in the results store)."""
    diffs = compare_runs(a, b)
    rows = [("field", f"A {a.run_id}", f"B {b.run_id}", "")]
    rows += [(d.name, _cell(d.a), _cell(d.b), d.note) for d in diffs]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    same = len(set(_flat(a)) | set(_flat(b))) - 1 - len(diffs)
    lines.append(f"({same} other fields identical)" if diffs else "the two runs are identical apart from their ids")
    return "\n".join(lines)
