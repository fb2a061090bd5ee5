"""The solution end to end on fake panels: the search queries the development and validation
panels, never the held-out one."""
import numpy as np
import pytest

from common.data import load_dataset
from common.errors import UserError
from common.llm import judges
from common.registry import get_competition
from common.solution import RunContext
from competitions.adversarial_judge import mixture, search, solution
from competitions.adversarial_judge.attacks import ATTACKS
from competitions.adversarial_judge.honest import writer_settings
from fakes.judges import FAKE_PANEL, fake_panel  # noqa: F401

COMP = get_competition("adversarial-judge")
FAKE_VALIDATION = (judges.Judge("val_up", "another rubric", center=4.5, scale=1.0, wording="mark"),
                   judges.Judge("val_down", "a third rubric", center=4.5, scale=1.0, wording="mark"))
FAKE_HELD_OUT = (judges.Judge("test_up", "a fourth rubric", center=4.5, scale=1.0, wording="grade"),
                 judges.Judge("test_down", "a fifth rubric", center=4.5, scale=1.0, wording="grade"))
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
    monkeypatch.setattr(solution, "VALIDATION_PANEL", FAKE_VALIDATION)
    monkeypatch.setattr(solution, "held_out_panel", lambda: FAKE_HELD_OUT)
    monkeypatch.setattr(search, "_embed", lambda essays: np.eye(len(essays), 16)[:, :16] + 0.1)
    monkeypatch.setattr(solution, "honest_essays", lambda topics, *a, **k: [f"An honest essay on {t}." for t in topics])
    return RunContext(COMP, load_dataset(COMP, folder), seed=1, options={"search_topics": "3", "honest_topics": "4"}), seen


def test_the_search_asks_two_panels_and_the_held_out_panel_scores_every_set(tiny):
    ctx, seen = tiny
    result = solution.run(ctx)
    searched = {name for phase, name, _ in seen if phase == "search"}
    assert searched == {j.name for j in FAKE_PANEL + FAKE_VALIDATION}
    assert {name for phase, name, _ in seen if phase == "final"} >= {"test_up", "test_down"}
    sub = result.submission
    assert sub["id"].to_list() == [str(i) for i in range(len(TOPICS))] and all(e.strip() for e in sub["essay"])
    assert result.best == "held-out/attack_mix"           # the panel no search fitted carries the mark
    names = {"attack_mix", "attack_mix_dev_only", "honest"}   # the fake panels disagree: the two searches differ
    assert set(result.cv) == {p + n for p in ("", "validation/", "held-out/") for n in names}
    assert result.info["development_only_mix"] != result.info["mix"]
    assert len({result.cv[p + "attack_mix"].panel for p in ("", "validation/", "held-out/")}) == 3
    assert all(s.kind == "panel" for s in result.cv.values())
    assert "4 of 9 topics" in result.cv["honest"].note and "avg_h=" in result.cv["attack_mix"].note
    assert "no search queried" in result.cv["held-out/attack_mix"].note
    assert "not searched on" in result.cv["validation/attack_mix_dev_only"].note
    assert sum(result.info["mix"].values()) == len(TOPICS)
    assert (ctx.data.path / "test.csv").exists()
    assert result.info["chart"].endswith(f"panels-custom-{ctx.data.fingerprint[:8]}.png")   # one chart per data


def test_the_two_panel_mix_trades_development_score_for_a_better_worse_panel(tiny):
    ctx, _ = tiny
    result = solution.run(ctx)
    dev, val = _profiles(ctx)

    def predicted(counts):
        vector = np.array([counts.get(a, 0) for a in dev.names])
        return mixture.predict(dev, vector)[0], mixture.predict(val, vector)[0]

    joint, alone = predicted(result.info["mix"]), predicted(result.info["development_only_mix"])
    assert min(joint) > min(alone)           # what the two-panel search is for
    assert alone[0] >= joint[0]              # ... paid for on the development panel
    assert result.info["predicted"] == {"development": pytest.approx(joint[0], abs=1e-4),
                                        "validation": pytest.approx(joint[1], abs=1e-4)}


def _profiles(ctx):
    topics = [str(t) for t in ctx.data.tables["test"]["topic"].to_list()]
    chosen = [topics[i] for i in solution._sample(len(topics), 3, ctx.seed)]
    attacks = list(ATTACKS.values())
    written = {"honest": [f"An honest essay on {t}." for t in chosen]}      # the default searches them too
    return [search.measure_attacks(attacks, chosen, panel, 12, ctx.seed, progress=False, written=written)
            for panel in (FAKE_PANEL, FAKE_VALIDATION)]


@pytest.mark.parametrize("validation, held_out", [(0, 0), (0, 1), (1, 0)])
def test_the_panels_can_be_left_out(tiny, validation, held_out):
    ctx, seen = tiny
    ctx.options = {"search_topics": "3", "validation": str(validation), "held_out": str(held_out)}
    result = solution.run(ctx)
    searched = {name for phase, name, _ in seen if phase == "search"}
    assert searched == {j.name for j in FAKE_PANEL + (FAKE_VALIDATION if validation else ())}
    names = {"attack_mix", "honest"} | ({"attack_mix_dev_only"} if validation else set())
    prefixes = [""] + (["validation/"] if validation else []) + (["held-out/"] if held_out else [])
    assert set(result.cv) == {p + n for p in prefixes for n in names}
    assert ("validation" in result.info["chosen_by"]) == bool(validation)
    assert (result.info["development_only_mix"] is None) == (not validation)


def test_the_same_run_gives_the_same_essays(tiny):
    ctx, _ = tiny
    assert solution.run(ctx).submission.equals(solution.run(ctx).submission)


def test_an_empty_topic_or_an_unknown_attack_is_one_clear_error(tiny):
    ctx, _ = tiny
    ctx.options = {"attacks": "inject_9,nope"}
    with pytest.raises(UserError, match="attacks: unknown nope"):
        solution.run(ctx)
    ctx.options = {}
    import polars as pl
    test = ctx.data.tables["test"]
    ctx.data.tables["test"] = test.with_columns(pl.when(pl.col("id") == "0").then(pl.lit(" ")).otherwise(pl.col("topic")).alias("topic"))
    with pytest.raises(UserError, match="topic of id 0 is empty"):
        solution.run(ctx)
    long = " ".join(["word"] * 151)
    ctx.data.tables["test"] = test.with_columns(pl.when(pl.col("id") == "1").then(pl.lit(long)).otherwise(pl.col("topic")).alias("topic"))
    with pytest.raises(UserError, match="topic of id 1 has 151 words; .* max_words=150"):
        solution.run(ctx)
    ctx.data.tables["test"] = test.head(1)
    with pytest.raises(UserError, match=f"^{ctx.data.path / 'test.csv'}: one topic; the judge metric needs at least 2"):
        solution.run(ctx)


def test_fast_searches_one_attack_a_family_on_two_topics_and_skips_the_baseline(tiny, capsys):
    ctx, seen = tiny
    ctx.fast, ctx.options = True, {}
    result = solution.run(ctx)
    searched = [essay for phase, name, essay in seen if phase == "search" and name == "up"]
    drawn = solution.fast_attacks(ctx.seed).split(",")
    assert len(searched) == 2 * (len(drawn) + 1) and len(drawn) == len({a.family for a in ATTACKS.values()})
    assert sorted(ATTACKS[a].family for a in drawn) == sorted({a.family for a in ATTACKS.values()})
    assert drawn == solution.fast_attacks(ctx.seed).split(",")      # the seed decides
    assert any(solution.fast_attacks(s) != solution.fast_attacks(ctx.seed) for s in range(3))
    said = "attack search: 7 attacks (--fast: one of each family, drawn with the seed) and honest essays on 2 topics"
    assert said in capsys.readouterr().out
    assert len(result.info["search_topics"]) == 2 and result.info["honest_topics"] == 4
    assert "attack_mix_dev_only" not in result.cv and {"held-out/attack_mix", "validation/honest"} <= set(result.cv)


def test_fast_keeps_the_attacks_a_user_names(tiny, capsys):
    ctx, seen = tiny
    ctx.fast, ctx.options = True, {"attacks": "inject_9,cond_909"}
    solution.run(ctx)
    assert len([e for phase, name, e in seen if phase == "search" and name == "up"]) == 2 * (2 + 1)   # and honest
    assert "attack search: 2 attacks and honest essays on 2 topics" in capsys.readouterr().out


def test_fast_with_attacks_set_empty_searches_the_whole_library():
    ctx = RunContext(COMP, None, fast=True, options={"attacks": ""})
    assert len(solution.config(ctx).attack_names()) == len(ATTACKS)
    assert len(solution.config(RunContext(COMP, None, fast=True)).attack_names()) == 7


def test_honest_essays_are_a_candidate_the_search_may_deal_by_default(tiny, capsys):
    ctx, seen = tiny
    ctx.options = {"search_topics": "3", "honest_topics": "4"}
    result = solution.run(ctx)
    assert "43 attacks and honest essays on 3 topics" in capsys.readouterr().out
    searched = [e for phase, name, e in seen if phase == "search" and name == "up"]
    assert list(result.info["attack_scores"])[-1] == "honest" and sum("An honest essay on" in e for e in searched) == 3
    dealt = result.info["plan"]["attack_per_topic"]
    assert "honest" in dealt and "honest" in result.info["mix"]            # the fake panels reward length
    essays = result.submission["essay"].to_list()
    assert all((e == f"An honest essay on {t}.") == (name == "honest") for e, t, name in zip(essays, TOPICS, dealt))
    assert set(result.info["plan"]["templates"]) == set(dealt) - {"honest"}     # only attacks have templates
    assert result.info["plan"]["writers"] == {"honest": writer_settings(128, 150)}   # how the device writes them
    assert "honest" in result.info["family_moves"]
    seen.clear()
    ctx.options = {"search_topics": "3", "honest_topics": "4", "search_honest": "0"}     # attacks alone
    result = solution.run(ctx)
    assert "honest" not in result.info["attack_scores"] and "honest" not in result.info["plan"]["attack_per_topic"]
    assert "writers" not in result.info["plan"]
    assert not any("An honest essay on" in e for phase, name, e in seen if phase == "search")


def test_assign_writes_a_written_candidate_once_on_the_topics_it_was_dealt():
    attacks = [ATTACKS["inject_9"], ATTACKS["cond_909"]]
    calls = []

    def write(chosen):
        calls.append(list(chosen))
        return [f"honest on {t}" for t in chosen]

    mix = mixture.Mix({"inject_9": 3, "honest": 4, "cond_909": 2}, 0.0, {})
    essays, names = search.assign(mix, attacks, TOPICS, 12, 7, writers={"honest": write})
    assert sorted(names) == sorted(["inject_9"] * 3 + ["honest"] * 4 + ["cond_909"] * 2)
    assert calls == [[t for t, n in zip(TOPICS, names) if n == "honest"]]
    assert all((e == f"honest on {t}") == (n == "honest") for e, t, n in zip(essays, TOPICS, names))
    with pytest.raises(ValueError, match="no attack or writer for honest"):
        search.assign(mix, attacks, TOPICS, 12, 7)
    with pytest.raises(ValueError, match="the writer of honest gave 3 essays for 4 topics"):
        search.assign(mix, attacks, TOPICS, 12, 7, writers={"honest": lambda chosen: write(chosen)[:3]})
