"""The detect-ai-text edge spec's options: its own dataclass, so a bad or unknown one is refused
before the teacher runs."""
import pytest

from common.data import load_dataset
from common.errors import UserError
from common.registry import get_competition
from competitions.detect_ai_text.edge import EdgeOptions, spec


@pytest.mark.parametrize("options, fragment", [
    ({"latency_rounds": "0"}, r"unknown detect-ai-text edge option\(s\) latency_rounds; known: folds, holdout, members"),
    ({"folds": "x"}, "folds='x': expected int"), ({"folds": "1"}, "folds must be at least 2"),
    ({"holdout": "1"}, "0 < holdout < 1"), ({"members": "nope"}, "unknown member")])
def test_bad_edge_options_are_refused(options, fragment):
    data = load_dataset(get_competition("detect-ai-text"))
    with pytest.raises(UserError, match=fragment):
        spec(data, options=options)


def test_the_defaults_are_the_documented_ones():
    assert EdgeOptions() == EdgeOptions(members="", folds=3, holdout=0.2)
