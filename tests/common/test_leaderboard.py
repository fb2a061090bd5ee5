"""The leaderboard: best first by the metric's direction, reference rows, comparisons, the PNG."""
from pathlib import Path

from common.leaderboard import (REFERENCE_NOTE, build_leaderboard, compare_runs, format_comparison,
                                format_leaderboard)
from common.leaderboard_chart import draw_leaderboard
from common.registry import Competition
from common.results import RunRecord
from common.schema import CompetitionSchema, SubmissionSchema


def comp(slug, metric, first_place=None):
    extra = {"first_place": first_place} if first_place is not None else {}
    return Competition(slug=slug, kaggle_slug=f"k-{slug}", title=slug, metric=metric, sample_dir=Path("."),
                       schema=CompetitionSchema(tables={}, submission=SubmissionSchema("id", ("p",), "text")),
                       extra=extra)


def run(run_id, competition, variant, cv, metric="map@3", source="sample", time="2026-11-22T10:00:00Z", **kw):
    fields = dict(run_id=run_id, competition=competition, variant=variant, metric=metric, cv=cv, cv_std=0.01,
                  folds=5, higher_is_better=True, data_source=source, commit="abc", seed=1, wall_s=1.0,
                  peak_mem_mb=1.0, time=time)
    return RunRecord(**{**fields, **kw})


COMPS = [comp("exam", "map@3", first_place=0.933), comp("llm", "multiclass_logloss")]


def test_best_first_in_the_metrics_direction():
    runs = [run("e1", "exam", "tfidf", 0.61), run("e2", "exam", "retrieval", 0.74), run("e3", "exam", "tfidf", 0.65),
            run("l1", "llm", "lgbm", 1.10, metric="multiclass_logloss"),
            run("l2", "llm", "lr", 0.95, metric="multiclass_logloss")]
    exam, llm = build_leaderboard(runs, COMPS)
    assert [(r.variant, r.cv, r.runs) for r in exam.rows] == [("retrieval", 0.74, 1), ("tfidf", 0.65, 2)]
    assert exam.higher_is_better and not llm.higher_is_better  # from common.metrics, not the records
    assert [r.run_id for r in llm.rows] == ["l2", "l1"]  # lower log loss first


def test_kaggle_data_rows_come_first_and_scored_runs_stay_visible():
    runs = [run("s", "exam", "tfidf", 0.90), run("k", "exam", "tfidf", 0.70, source="kaggle"),
            run("k2", "exam", "tfidf", 0.60, source="kaggle", public=0.58, private=0.57)]
    (exam, _) = build_leaderboard(runs, COMPS)
    assert [(r.run_id, r.data_source) for r in exam.rows] == [("k", "kaggle"), ("k2", "kaggle"), ("s", "sample")]
    assert exam.rows[1].private == 0.57


def test_table_has_reference_rows_and_labels():
    runs = [run("e1", "exam", "tfidf", 0.6123, public=0.6, private=0.59), run("x", "other", "v", 3.0, metric="x")]
    text = format_leaderboard(build_leaderboard(runs, COMPS, all_runs=True))
    exam_block = text.split("exam  [map@3, higher is better]")[1].split("\n\n")[0]
    assert "0.6123 ± 0.0100" in exam_block and "0.6000" in exam_block and "0.5900" in exam_block
    assert "1st place, real LB" in exam_block and "0.933" in exam_block
    assert "llm  [multiclass_logloss, lower is better]" in text and "(no runs yet)" in text
    assert "other  [x, higher is better]" in text  # a competition no longer registered still shows
    assert REFERENCE_NOTE in text and "not comparable" in REFERENCE_NOTE


def test_compare_lists_only_differences_with_the_better_run():
    a = run("a", "llm", "lgbm", 1.10, metric="multiclass_logloss", seed=1)
    b = run("b", "llm", "lgbm", 0.90, metric="multiclass_logloss", seed=1, note="more trees")
    diffs = {d.name: d for d in compare_runs(a, b)}
    assert set(diffs) == {"cv", "note"}
    assert "B better" in diffs["cv"].note and "-0.2000" in diffs["cv"].note
    text = format_comparison(a, b)
    assert "more trees" in text and "other fields identical" in text
    assert "identical apart from their ids" in format_comparison(a, run("c", "llm", "lgbm", 1.10,
                                                                          metric="multiclass_logloss"))


def test_chart_is_a_png_written_atomically(tmp_path):
    runs = [run("e1", "exam", "tfidf", 0.61, public=0.6, private=0.59), run("l1", "llm", "lr", 1.0,
                                                                          metric="multiclass_logloss")]
    path = draw_leaderboard(build_leaderboard(runs, COMPS), tmp_path / "charts" / "lb.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert [p.name for p in path.parent.iterdir()] == ["lb.png"]
