"""What a solved run leaves: the selection lines (record_runs is exercised by tests/cli/test_submit_cmd.py)."""


def test_a_variant_picked_by_its_cv_comes_with_what_picking_on_the_other_folds_scores():
    import polars as pl

    from common.run_records import selection_lines
    from common.registry import get_competition
    from common.solution import CvScore, SolutionResult

    cv = {"lm_rag": CvScore(0.5, 0.3, 3, per_fold=(0.9, 0.3, 0.3)), "ensemble": CvScore(0.45, 0.04, 3, per_fold=(0.5, 0.45, 0.4))}
    chosen = SolutionResult(pl.DataFrame({"id": [1]}), cv, "lm_rag", chosen_among=("lm_rag", "ensemble"))
    out = "\n".join(selection_lines(get_competition("science-exam"), chosen))
    assert "lm_rag has the best CV of 2 variants" in out and "scores 0.3667" in out
    assert "(picked: ensemble in 1, lm_rag in 2 of 3 folds)" in out
    assert chosen.info["selection"]["picks"] == ["ensemble", "lm_rag", "lm_rag"]
    steady = {"lm_rag": CvScore(0.5, per_fold=(0.6, 0.5, 0.4)), "ensemble": CvScore(0.3, per_fold=(0.3, 0.3, 0.3))}
    lines = selection_lines(get_competition("science-exam"), SolutionResult(pl.DataFrame({"id": [1]}), steady, "lm_rag",
                                                                           chosen_among=("lm_rag", "ensemble")))
    assert "lm_rag is also the best on the other folds of every fold" in lines[0]
    fixed = SolutionResult(pl.DataFrame({"id": [1]}), cv, "lm_rag")         # fixed by the solution: nothing to say
    assert selection_lines(get_competition("science-exam"), fixed) == [] and "selection" not in fixed.info
