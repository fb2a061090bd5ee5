"""The leaderboard: best first by the metric's direction, reference rows, comparisons, the PNG."""
from pathlib import Path

from common.leaderboard import (GROUP_NOTE, REFERENCE_NOTE, GroupKey, build_leaderboard, compare_runs,
                                format_comparison, format_leaderboard)
from common.leaderboard_chart import draw_leaderboard, panels
from common.registry import Competition
from fakes.runs import make_run
from common.schema import CompetitionSchema, SubmissionSchema


def comp(slug, metric, first_place=None):
    extra = {"first_place": first_place} if first_place is not None else {}
    return Competition(slug=slug, kaggle_slug=f"k-{slug}", title=slug, metric=metric, sample_dir=Path("."),
                       schema=CompetitionSchema(tables={}, submission=SubmissionSchema("id", ("p",), "text")),
                       extra=extra)


def run(run_id, competition, variant, cv, metric="map@3", source="sample", time="2026-11-22T10:00:00Z", **kw):
    return make_run(**{**dict(run_id=run_id, competition=competition, variant=variant, metric=metric, cv=cv,
                              cv_std=0.01, data_source=source, seed=1, time=time), **kw})


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



def test_two_custom_folders_are_two_groups_while_sample_runs_stay_one():
    runs = [run("c1", "exam", "tfidf", 0.90, source="custom", data_id="aaaaaaaaaaaa"),
            run("c2", "exam", "tfidf", 0.50, source="custom", data_id="bbbbbbbbbbbb"),
            run("c3", "exam", "lm", 0.60, source="custom", data_id="bbbbbbbbbbbb"),
            run("x1", "exam", "lm", 0.70, source="sample+extra", data_id="cccccccccccc"),
            run("s1", "exam", "tfidf", 0.40, data_id="dddddddddddd"),
            run("s2", "exam", "lm", 0.45, data_id="eeeeeeeeeeee"),    # the sample: its source names its files
            run("old", "exam", "lm", 0.80, source="custom")]          # a record from before data ids
    (exam, _) = build_leaderboard(runs, COMPS)
    groups = {(g.key.data_source, g.key.data_id): [r.run_id for r in g.rows] for g in exam.groups}
    assert groups == {("custom", ""): ["old"], ("custom", "aaaaaaaaaaaa"): ["c1"],
                      ("custom", "bbbbbbbbbbbb"): ["c3", "c2"], ("sample", ""): ["s2", "s1"],
                      ("sample+extra", "cccccccccccc"): ["x1"]}
    text = format_leaderboard([exam])
    assert "-- custom data bbbbbbbbbbbb, cv (held-out folds)" in text and "-- sample data, cv" in text
    a, b = runs[0], runs[1]
    note = next(d.note for d in compare_runs(a, b) if d.name == "cv")
    assert "not comparable" in note


def test_fast_runs_are_ranked_only_beside_other_fast_runs():
    runs = [run("full", "exam", "tfidf", 0.60, extra={"fast": False}),
            run("quick", "exam", "tfidf", 0.80, extra={"fast": True}),
            run("old", "exam", "lm", 0.70)]                            # a record from before extra.fast
    (exam, _) = build_leaderboard(runs, COMPS)
    assert [[r.run_id for r in g.rows] for g in exam.groups] == [["old", "full"], ["quick"]]
    assert "-- sample data, cv (held-out folds), --fast settings (a quick check)" in format_leaderboard([exam])
    note = next(d.note for d in compare_runs(runs[0], runs[1]) if d.name == "cv")
    assert "not comparable" in note


def test_runs_scored_by_an_older_metric_definition_are_ranked_apart_and_last():
    judge = comp("judge", "judge_score")
    runs = [run("old", "judge", "mix", 4.59, metric="judge_score", kind="panel", panel="p#1", folds=0),
            run("new", "judge", "mix", 3.75, metric="judge_score", kind="panel", panel="p#1", folds=0,
                metric_version=2)]
    (board,) = build_leaderboard(runs, [judge])
    assert [[r.run_id for r in g.rows] for g in board.groups] == [["new"], ["old"]]
    assert "metric version 1 (superseded: an older definition)" in format_leaderboard([board])
    assert "superseded" not in board.groups[0].key.label(board.metric)


def test_scores_of_different_kinds_encoders_or_panels_are_never_ranked_together():
    recovery = comp("recovery", "sharpened_cosine")
    runs = [run("cv1", "recovery", "a", 0.50, metric="sharpened_cosine", encoder="minilm"),
            run("cv2", "recovery", "b", 0.60, metric="sharpened_cosine", encoder="minilm"),
            run("t5", "recovery", "a", 0.90, metric="sharpened_cosine", encoder="sentence-t5-base"),
            run("ho", "recovery", "a", 0.40, metric="sharpened_cosine", encoder="minilm", kind="holdout"),
            run("old", "recovery", "c", 0.55, metric="sharpened_cosine")]  # a record from before kinds: "cv"
    (board,) = build_leaderboard(runs, [recovery])
    keys = [(g.key.kind, g.key.encoder) for g in board.groups]
    assert keys == [("cv", ""), ("cv", "minilm"), ("cv", "sentence-t5-base"), ("holdout", "minilm")]
    ranked = {(g.key.kind, g.key.encoder): [r.run_id for r in g.rows] for g in board.groups}
    assert ranked[("cv", "minilm")] == ["cv2", "cv1"]  # 0.90 with another encoder is not above them
    assert ranked[("holdout", "minilm")] == ["ho"] and ranked[("cv", "")] == ["old"]
    text = format_leaderboard([board])
    assert "4 groups, each ranked on its own" in text and GROUP_NOTE in text
    assert "-- sample data, cv (held-out folds), encoder=minilm" in text
    assert "-- sample data, holdout (a held-out split), encoder=minilm" in text
    assert text.index("cv2") < text.index("cv1") < text.index("sentence-t5-base") < text.index("ho ")


def test_judge_panels_group_apart_and_kaggle_groups_come_first():
    judge = comp("judge", "judge_score")
    runs = [run("p1", "judge", "v", 2.0, metric="judge_score", kind="panel", panel="smollm2:x#1"),
            run("p2", "judge", "w", 3.0, metric="judge_score", kind="panel", panel="gemma:y#2"),
            run("k", "judge", "v", 1.0, metric="judge_score", kind="panel", panel="smollm2:x#1", source="kaggle")]
    (board,) = build_leaderboard(runs, [judge])
    assert [g.key for g in board.groups] == [GroupKey("judge_score", "kaggle", "panel", "", "smollm2:x#1"),
                                             GroupKey("judge_score", "sample", "panel", "", "gemma:y#2"),
                                             GroupKey("judge_score", "sample", "panel", "", "smollm2:x#1")]
    assert "panel=gemma:y#2" in format_leaderboard([board])
    cv_note = {d.name: d.note for d in compare_runs(runs[0], runs[1])}["cv"]
    assert "B better" in cv_note and "not comparable" in cv_note


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



def test_compare_diffs_extra_key_by_key_and_cuts_long_values():
    long = "x" * 500
    a = run("a", "exam", "tfidf", 0.6, extra={"options": {"k": "1"}, "rules": long, "same": 1})
    b = run("b", "exam", "tfidf", 0.6, extra={"options": {"k": "2"}, "same": 1, "only_b": True})
    diffs = {d.name: (d.a, d.b) for d in compare_runs(a, b)}
    assert diffs == {"extra.options": ({"k": "1"}, {"k": "2"}), "extra.rules": (long, None),
                     "extra.only_b": (None, True)}
    text = format_comparison(a, b)
    assert long not in text and "x" * 57 + "..." in text
    assert max(len(line) for line in text.splitlines()) < 200

def test_chart_is_a_png_written_atomically_with_a_panel_per_group(tmp_path):
    runs = [run("e1", "exam", "tfidf", 0.61, public=0.6, private=0.59), run("l1", "llm", "lr", 1.0,
                                                                          metric="multiclass_logloss"),
            run("e2", "exam", "tfidf", 0.8, kind="holdout")]
    boards = build_leaderboard(runs, COMPS + [comp("empty", "roc_auc")])
    assert [(b.slug, g and g.key.kind) for b, g in panels(boards)] == [
        ("exam", "cv"), ("exam", "holdout"), ("llm", "cv"), ("empty", None)]
    path = draw_leaderboard(boards, tmp_path / "charts" / "lb.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert [p.name for p in path.parent.iterdir()] == ["lb.png"]


def test_a_score_without_folds_shows_no_spread_in_the_table_or_the_chart(tmp_path):
    runs = [run("p1", "exam", "attack", 4.5884, cv_std=0.0, folds=0, kind="panel", panel="smollm2:x#1"),
            run("c1", "exam", "tfidf", 0.6123)]
    boards = build_leaderboard(runs, COMPS)
    text = format_leaderboard(boards)
    assert "4.5884 " in text and "4.5884 ± " not in text and "0.6123 ± 0.0100" in text
    [exam] = [b for b in boards if b.slug == "exam"]
    assert [[r.cv_std for r in g.rows] for g in exam.groups] in ([[0.01], [None]], [[None], [0.01]])
    assert draw_leaderboard(boards, tmp_path / "lb.png").stat().st_size > 0


def test_a_first_place_far_off_the_runs_scale_is_named_not_drawn(tmp_path):
    import matplotlib.pyplot as plt

    from common.leaderboard_chart import _panel

    for first, drawn in ((30.6, False), (0.933, True)):
        boards = build_leaderboard([run("p1", "exam", "attack", 2.9, cv_std=None, kind="panel", panel="j#1")],
                                   [comp("exam", "judge_score", first_place=first)])
        [(board, group)] = panels(boards)
        fig, ax = plt.subplots()
        _panel(ax, board, group)
        in_legend = [label for label in ax.get_legend_handles_labels()[1] if "1st place" in label]
        if drawn:
            assert in_legend == ["real LB 1st place 0.933 (not comparable)"] and "1st place" not in ax.get_title()
        else:                                     # the bar keeps the width: the axis stops near the runs' 2.9
            assert not in_legend and ax.get_xlim()[1] < 10
            assert ax.get_title().endswith("\nreal LB 1st place 30.6 (not comparable): off this scale")
            assert not ax.texts                   # said in the panel's title, not drawn over its lowest bar
        plt.close(fig)


def test_a_fast_group_is_hatched_and_says_so_in_its_legend():
    import matplotlib.pyplot as plt

    from common.leaderboard_chart import _panel

    boards = build_leaderboard([run("f1", "exam", "tfidf", 0.5, extra={"fast": True}), run("n1", "exam", "tfidf", 0.6)],
                               COMPS)
    seen = {}
    for board, group in [(b, g) for b, g in panels(boards) if g]:
        fig, ax = plt.subplots()
        _panel(ax, board, group)
        seen[group.key.fast] = ({p.get_hatch() for p in ax.patches}, ax.get_legend_handles_labels()[1])
        plt.close(fig)
    assert seen[True][0] == {"//"} and "cv score (--fast) ± std" in seen[True][1]
    assert seen[False][0] == {None} and "cv score ± std" in seen[False][1]


def test_two_held_out_splits_are_two_groups_named_by_their_prefix():
    detect = comp("detect", "roc_auc")
    runs = [run("g1", "detect", "heldout_generator/tfidf", 0.93, metric="roc_auc", kind="holdout"),
            run("p1", "detect", "heldout_prompt/tfidf", 0.91, metric="roc_auc", kind="holdout"),
            run("p2", "detect", "heldout_prompt/lm", 0.97, metric="roc_auc", kind="holdout"),
            run("c1", "detect", "tfidf", 0.95, metric="roc_auc")]
    (board,) = build_leaderboard(runs, [detect])
    ranked = {(g.key.kind, g.key.split): [r.run_id for r in g.rows] for g in board.groups}
    assert ranked == {("cv", ""): ["c1"], ("holdout", "heldout_generator"): ["g1"],
                      ("holdout", "heldout_prompt"): ["p2", "p1"]}
    assert "-- sample data, holdout (a held-out split), split=heldout_prompt" in format_leaderboard([board])


def test_an_experiments_held_out_splits_are_still_two_groups():
    detect = comp("detect", "roc_auc")
    runs = [run("g1", "detect", "tfidf_only/heldout_generator/tfidf", 0.93, metric="roc_auc", kind="holdout",
                extra={"experiment": "tfidf_only"}),
            run("p1", "detect", "tfidf_only/heldout_prompt/tfidf", 0.91, metric="roc_auc", kind="holdout",
                extra={"experiment": "tfidf_only"})]
    (board,) = build_leaderboard(runs, [detect])
    assert sorted(g.key.split for g in board.groups) == ["heldout_generator", "heldout_prompt"]


def test_a_board_by_author_gives_each_author_a_row_per_variant_and_a_by_column(tmp_path):
    runs = [run("a1", "exam", "tfidf", 0.61, author="alice"), run("a2", "exam", "tfidf", 0.66, author="alice"),
            run("b1", "exam", "tfidf", 0.64, author="bob"), run("b2", "exam", "retrieval", 0.70, author="bob")]
    exam, _ = build_leaderboard(runs, COMPS, by_author=True)
    assert [(r.variant, r.author, r.cv, r.runs) for r in exam.rows] == [
        ("retrieval", "bob", 0.70, 1), ("tfidf", "alice", 0.66, 2), ("tfidf", "bob", 0.64, 1)]
    table = format_leaderboard([exam])
    header = next(line for line in table.splitlines() if line.strip().startswith("variant"))
    assert header.split()[:3] == ["variant", "by", "data"]
    assert any(line.split()[:2] == ["tfidf", "alice"] for line in table.splitlines())
    alone, _ = build_leaderboard(runs, COMPS)                  # one person's board: one row a variant, no column
    assert [(r.variant, r.author) for r in alone.rows] == [("retrieval", ""), ("tfidf", "")]
    assert " by " not in next(line for line in format_leaderboard([alone]).splitlines() if "variant" in line)
    assert draw_leaderboard([exam], tmp_path / "team.png").read_bytes()[:4] == b"\x89PNG"
    odd = build_leaderboard([run("m1", "exam", "tfidf", 0.6, author="$\\notacommand{x}$ & co"),
                             run("m2", "exam", "tfidf", 0.5, author="$5 bob")], COMPS, by_author=True)
    assert draw_leaderboard(odd, tmp_path / "odd.png").read_bytes()[:4] == b"\x89PNG"   # '$' is not math


def test_a_teammates_newer_metric_version_is_titled_as_such():
    newer, ours = GroupKey.of(run("n", "exam", "x", 0.5, metric_version=2)), GroupKey.of(run("o", "exam", "x", 0.5))
    assert "metric version 2 (newer than this checkout's 1" in newer.label("map@3")
    assert "version" not in ours.label("map@3")


def test_a_name_in_a_script_dejavu_lacks_is_drawn_from_an_installed_fallback_font(tmp_path, monkeypatch):
    import warnings

    import common.leaderboard_chart as chart

    assert chart.label_fonts()[0] == "DejaVu Sans"
    assert "No Such Font" not in chart.label_fonts()
    # STIXGeneral ships with matplotlib and has the arc, which DejaVu Sans lacks: it stands in for a CJK font here
    board = build_leaderboard([run("w1", "exam", "tfidf", 0.6, author="arc \u2312")], COMPS, by_author=True)
    for fallbacks, missing in (((), True), (("No Such Font", "STIXGeneral"), False)):
        monkeypatch.setattr(chart, "FALLBACK_FONTS", fallbacks)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            chart.draw_leaderboard(board, tmp_path / "fallback.png")
        assert any("Glyph 8978" in str(w.message) for w in seen) is missing, fallbacks
