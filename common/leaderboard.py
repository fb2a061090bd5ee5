"""The leaderboard: every competition and variant from the results store, best first.

    from common.leaderboard import build_leaderboard, format_leaderboard, format_comparison
    boards = build_leaderboard(read_runs(), all_competitions())
    print(format_leaderboard(boards))
    print(format_comparison(find_run("2026..-a1b2c3"), find_run("2026..-d4e5f6")))

One row per (variant, data source): its best run by CV, with how many runs it has, plus its
best Kaggle-scored run when that is another one. Better is higher
or lower as the competition's metric says (`common.metrics.get_metric`). Rows on real Kaggle
files come before rows on the committed sample, whose scores are never comparable with a
leaderboard. Each competition whose registration carries `extra["first_place"]` gets a
reference row: the real competition's 1st-place private score, labelled as such.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from common.errors import UserError
from common.registry import Competition
from common.results import RunRecord

REFERENCE_LABEL = "* 1st place, real LB"
REFERENCE_NOTE = ("* the real competition's 1st-place private score on Kaggle: a real-leaderboard figure, "
                  "not comparable with scores on the sample data")


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
    reference: bool = False


@dataclass
class CompetitionBoard:
    slug: str
    metric: str
    higher_is_better: bool
    rows: list[LeaderboardRow] = field(default_factory=list)
    first_place: float | None = None

    def reference_row(self) -> LeaderboardRow | None:
        if self.first_place is None:
            return None
        return LeaderboardRow(variant=REFERENCE_LABEL, data_source="kaggle LB", runs=0, cv=None, cv_std=None,
                              private=self.first_place, reference=True)


def metric_direction(metric: str, fallback: bool = True) -> bool:
    """True when a higher score is better, from the metric registry; `fallback` for unknown metrics."""
    try:
        from common.metrics import get_metric

        return get_metric(metric).higher_is_better
    except (ImportError, UserError):
        return fallback


def _best(runs: list[RunRecord], higher: bool) -> RunRecord:
    # best CV; among equals the newest run
    return max(runs, key=lambda r: ((r.cv if higher else -r.cv), r.time))


def _best_scored(runs: list[RunRecord], higher: bool) -> RunRecord:
    score = lambda r: r.private if r.private is not None else r.public
    return max(runs, key=lambda r: ((score(r) if higher else -score(r)), r.time))


def build_leaderboard(runs: list[RunRecord], competitions: list[Competition],
                      all_runs: bool = False) -> list[CompetitionBoard]:
    """A board per registered competition (and per unregistered one found in the runs)."""
    boards: dict[str, CompetitionBoard] = {}
    for comp in competitions:
        boards[comp.slug] = CompetitionBoard(comp.slug, comp.metric, metric_direction(comp.metric),
                                             first_place=comp.extra.get("first_place"))
    for run in runs:
        if run.competition not in boards:
            boards[run.competition] = CompetitionBoard(run.competition, run.metric,
                                                       metric_direction(run.metric, run.higher_is_better))
    for slug, board in boards.items():
        mine = [r for r in runs if r.competition == slug]
        groups: dict[tuple[str, str], list[RunRecord]] = {}
        for run in mine:
            key = (run.variant, run.data_source) if not all_runs else (run.run_id, "")
            groups.setdefault(key, []).append(run)
        for group in groups.values():
            shown = [_best(group, board.higher_is_better)]
            scored = [r for r in group if r.public is not None or r.private is not None]
            if scored and shown[0] not in scored:  # keep the Kaggle scores of the group visible
                shown.append(_best_scored(scored, board.higher_is_better))
            for run in shown:
                board.rows.append(LeaderboardRow(run.variant, run.data_source, len(group), run.cv, run.cv_std,
                                                 run.public, run.private, run.run_id, run.commit))
        sign = 1 if board.higher_is_better else -1
        board.rows.sort(key=lambda r: (r.data_source != "kaggle", -sign * r.cv))
    return list(boards.values())


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_leaderboard(boards: list[CompetitionBoard]) -> str:
    """A plain-text table, one block per competition."""
    header = ("variant", "data", "runs", "CV ± std", "public", "private", "run id", "commit")
    lines = []
    for board in boards:
        direction = "higher is better" if board.higher_is_better else "lower is better"
        lines.append(f"{board.slug}  [{board.metric}, {direction}]")
        table = [header]
        for row in board.rows:
            table.append((row.variant, row.data_source, str(row.runs), f"{_num(row.cv)} ± {_num(row.cv_std)}",
                          _num(row.public), _num(row.private), row.run_id, row.commit))
        if not board.rows:
            table.append(("(no runs yet)", "", "", "", "", "", "", ""))
        reference = board.reference_row()
        if reference:
            table.append((REFERENCE_LABEL, reference.data_source, "", "", "", f"{reference.private:g}", "", ""))
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for row in table:
            lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        lines.append("")
    lines.append("data: 'sample' = committed sample files (CV only, not comparable with Kaggle); "
                 "'kaggle' = real competition files")
    if any(b.first_place is not None for b in boards):
        lines.append(REFERENCE_NOTE)
    return "\n".join(lines)


@dataclass
class FieldDiff:
    name: str
    a: object
    b: object
    note: str = ""


def compare_runs(a: RunRecord, b: RunRecord) -> list[FieldDiff]:
    """The fields where two runs differ; score fields say which run is better."""
    higher = metric_direction(a.metric, a.higher_is_better)
    left, right = asdict(a), asdict(b)
    diffs = []
    for name in left:
        if name in ("run_id",) or left[name] == right[name]:
            continue
        note = ""
        if name in ("cv", "public", "private") and None not in (left[name], right[name]):
            delta = right[name] - left[name]
            better = (delta > 0) == higher
            note = f"B-A {delta:+.4f} ({'B' if better else 'A'} better)" if delta else ""
            if a.competition != b.competition or a.data_source != b.data_source:
                note += " (different competition or data: not comparable)"
        diffs.append(FieldDiff(name, left[name], right[name], note.strip()))
    return diffs


def format_comparison(a: RunRecord, b: RunRecord) -> str:
    diffs = compare_runs(a, b)
    rows = [("field", f"A {a.run_id}", f"B {b.run_id}", "")]
    rows += [(d.name, str(d.a), str(d.b), d.note) for d in diffs]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    same = len(asdict(a)) - 1 - len(diffs)
    lines.append(f"({same} other fields identical)" if diffs else "the two runs are identical apart from their ids")
    return "\n".join(lines)
