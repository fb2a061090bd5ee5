"""make edge's port of adversarial-judge searches attacks alone: the device writes essays from
templates and runs no language model."""
import pytest

from common.errors import UserError
from competitions.adversarial_judge import edge, solution


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


@pytest.mark.parametrize("given", [{}, {"search_honest": "0"}, {"search_topics": "8"}])
def test_the_port_searches_without_honest_essays(options_seen, given):
    with pytest.raises(Searched):
        edge.spec(None, options=given)
    assert options_seen == [{**given, "search_honest": "0"}]


@pytest.mark.parametrize("value", ["1", 1])           # --set gives text, an experiment's TOML an integer
def test_asking_the_port_for_honest_essays_is_refused_before_any_search(options_seen, value):
    with pytest.raises(UserError, match="device runs no language model .* without search_honest=1"):
        edge.spec(None, options={"search_honest": value})
    assert options_seen == []
