"""The solution end to end on a fake panel: the search queries only the development panel."""
import numpy as np
import pytest

from common.data import load_dataset
from common.errors import UserError
from common.llm import judges
from common.registry import get_competition
from common.solution import RunContext
from competitions.adversarial_judge import search, solution
from fakes.judges import FAKE_PANEL, fake_panel  # noqa: F401

COMP = get_competition("adversarial-judge")
FAKE_VALIDATION = (judges.Judge("val_a", "another rubric", center=4.5, scale=1.0, wording="mark"),
                   judges.Judge("val_b", "a third rubric", center=4.5, scale=1.0, wording="mark"))
TOPICS = ["Cats at night", "The history of bread", "Why rivers flood", "Chess openings", "Volcano safety",
          "Learning a language", "Bees and flowers", "The first printing press", "Tides and the moon"]


@pytest.fixture
def tiny(tmp_path, monkeypatch, fake_panel):
    folder = tmp_path / "data"
    folder.mkdir()
    rows = "\n".join(f"{i},{t}" for i, t in enumerate(TOPICS))
    (folder / "test.csv").write_text(f"id,topic\n{rows}\n")
    (folder / "sample_submission.csv").write_text("id,essay\n" + "\n".join(f"{i},x" for i in range(len(TOPICS))) + "\n")
    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "results" / "runs.jsonl"))
    phase, seen = ["final"], []

    def recording(judge, pairs):
        seen.extend((phase[0], judge.name, json_essay) for json_essay in pairs)
        return fake_panel(judge, pairs)

    def searching(*args, **kwargs):
        phase[0] = "search"
        try:
            return real_measure(*args, **kwargs)
        finally:
            phase[0] = "final"

    real_measure = search.measure_attacks
    monkeypatch.setattr(judges, "_digit_distributions", recording)
    monkeypatch.setattr(solution, "measure_attacks", searching)
    monkeypatch.setattr(solution, "DEVELOPMENT_PANEL", FAKE_PANEL)
    monkeypatch.setattr(solution, "validation_panel", lambda: FAKE_VALIDATION)
    monkeypatch.setattr(search, "_embed", lambda essays: np.eye(len(essays), 16)[:, :16] + 0.1)
    monkeypatch.setattr(solution, "honest_essays", lambda topics, *a, **k: [f"An honest essay on {t}." for t in topics])
    return RunContext(COMP, load_dataset(COMP, folder), seed=1, options={"search_topics": "3", "honest_topics": "4"}), seen


def test_the_search_never_asks_a_validation_judge_and_the_validation_panel_scores_the_result(tiny):
    ctx, seen = tiny
    result = solution.run(ctx)
    searched = {name for phase, name, _ in seen if phase == "search"}
    assert searched == {j.name for j in FAKE_PANEL}
    assert {name for phase, name, _ in seen if phase == "final"} >= {"val_a", "val_b"}
    sub = result.submission
    assert sub["id"].to_list() == list(range(len(TOPICS))) and all(e.strip() for e in sub["essay"])
    assert {"attack_mix", "honest", "validation/honest"} <= set(result.cv)
    validated = [k.removeprefix("validation/") for k in result.cv if k.startswith("validation/attack_mix")]
    assert validated        # the leader is validated: attack_mix, or attack_mix_alt (it led on an AVX-512 machine)
    assert all(s.kind == "panel" for s in result.cv.values())
    assert result.cv[validated[0]].panel != result.cv["validation/" + validated[0]].panel
    assert "4 of 9 topics" in result.cv["honest"].note and "avg_h=" in result.cv["attack_mix"].note
    assert result.best in {"attack_mix", "attack_mix_alt"}
    assert sum(result.info["mix"].values()) == len(TOPICS)
    assert (ctx.data.path / "test.csv").exists() and result.info["chart"].endswith("panels.png")


def test_the_same_run_gives_the_same_essays(tiny):
    ctx, _ = tiny
    assert solution.run(ctx).submission.equals(solution.run(ctx).submission)


def test_an_empty_topic_or_an_unknown_attack_is_one_clear_error(tiny):
    ctx, _ = tiny
    ctx.options = {"attacks": "inject_9,nope"}
    with pytest.raises(UserError, match="unknown attack 'nope'"):
        solution.run(ctx)
    ctx.options = {}
    import polars as pl
    test = ctx.data.tables["test"]
    ctx.data.tables["test"] = test.with_columns(pl.when(pl.col("id") == 0).then(pl.lit(" ")).otherwise(pl.col("topic")).alias("topic"))
    with pytest.raises(UserError, match="topic of id 0 is empty"):
        solution.run(ctx)
    long = " ".join(["word"] * 151)
    ctx.data.tables["test"] = test.with_columns(pl.when(pl.col("id") == 1).then(pl.lit(long)).otherwise(pl.col("topic")).alias("topic"))
    with pytest.raises(UserError, match="topic of id 1 has 151 words; .* max_words=150"):
        solution.run(ctx)
