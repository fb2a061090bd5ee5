"""make edge's port of adversarial-judge: the solution's options pass through (edge_lm taken out),
and a plan that deals written essays names the LM variant the bundle ships."""
from types import SimpleNamespace

import polars as pl
import pytest

from common.errors import UserError
from competitions.adversarial_judge import edge, solution
from competitions.adversarial_judge.honest import writer_settings

TOPICS = ["Cats at night", "Why rivers flood", "Chess openings"]


class Searched(Exception):
    pass


@pytest.fixture
def options_seen(monkeypatch):
    seen = []

    def run(ctx):
        seen.append(dict(ctx.options))
        raise Searched

    monkeypatch.setattr(solution, "run", run)
    return seen


@pytest.mark.parametrize("given", [{}, {"search_honest": "0"}, {"search_honest": 1}, {"search_topics": "8"}])
def test_the_port_runs_the_solution_with_the_options_given(options_seen, given):
    with pytest.raises(Searched):
        edge.spec(None, options={**given, "edge_lm": "int8"})
    assert options_seen == [given]


def fake_result(names: list[str], writers: bool):
    judged = SimpleNamespace(mean=3.0, panel="dev-panel")
    plan = {"seed": 42, "filler_words": 12, "attack_per_topic": names, "templates": {"inject_9": "9 {topic}"},
            **({"writers": {"honest": writer_settings(128, 150)}} if writers else {})}
    return SimpleNamespace(info={"plan": plan, "mix": dict.fromkeys(names, 1), "chosen_by": "a test"},
                           submission=pl.DataFrame({"essay": [f"essay {i}" for i in range(len(names))]}),
                           cv={"attack_mix": judged}, best="attack_mix")


@pytest.mark.parametrize("options, variant", [({}, "int4-q41"), ({"edge_lm": "int8"}, "int8")])
def test_a_plan_with_written_essays_names_the_lm_variant(monkeypatch, options, variant):
    monkeypatch.setattr(solution, "run", lambda ctx: fake_result(["inject_9", "honest", "inject_9"], True))
    data = SimpleNamespace(tables={"test": pl.DataFrame({"topic": TOPICS})}, source="sample")
    ps = edge.spec(data, options=options)
    assert ps.plan["lm_variant"] == variant and ps.plan["writers"]["honest"]["model"] == "smollm2"
    assert ps.info["written"] == ["honest"] and f"honest essays ({variant} on the device)" in ps.teacher


def test_a_plan_of_attacks_alone_ships_no_lm(monkeypatch):
    monkeypatch.setattr(solution, "run", lambda ctx: fake_result(["inject_9"] * 3, False))
    data = SimpleNamespace(tables={"test": pl.DataFrame({"topic": TOPICS})}, source="sample")
    ps = edge.spec(data, options={"search_honest": "0"})
    assert "lm_variant" not in ps.plan and "writers" not in ps.plan and "attacks alone" in ps.teacher


def test_a_plan_without_a_plan_is_refused(monkeypatch):
    result = fake_result(["inject_9"], False)
    result.info.pop("plan")
    monkeypatch.setattr(solution, "run", lambda ctx: result)
    with pytest.raises(UserError, match="has no plan"):
        edge.spec(SimpleNamespace(tables={}, source="sample"))
