"""JudgeConfig.validate: a value out of range is one line; the documented special values stay valid."""
from dataclasses import replace

import pytest

from common.errors import UserError
from common.options import config_from_options
from competitions.adversarial_judge.config import JudgeConfig


@pytest.mark.parametrize("field, value, message", [
    ("validation", 2, "validation must be 1"),
    ("held_out", -1, "held_out must be 1"),
    ("baseline", 2, "baseline must be 1"),
    ("max_words", 5, "max_words >= 10"),
])
def test_a_value_out_of_range_is_one_line(field, value, message):
    with pytest.raises(UserError, match=message):
        replace(JudgeConfig(), **{field: value}).validate()


@pytest.mark.parametrize("field, value", [("validation", 0), ("held_out", 0), ("baseline", 0), ("filler_words", 0)])
def test_the_documented_special_values_stay_valid(field, value):
    config = config_from_options(JudgeConfig, {field: str(value)}, "--set")      # as `--set field=value` gives it
    config.validate()
    assert getattr(config, field) == value
