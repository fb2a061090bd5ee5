"""SolutionConfig.validate: a value out of range is one line; the documented special values stay valid."""
from dataclasses import replace

import pytest

from common.errors import UserError
from common.options import config_from_options
from competitions.science_exam.config import SolutionConfig


@pytest.mark.parametrize("field, value, message", [
    ("mc_lr", 0.0, "mc_lr must be above 0"),
    ("mc_trainable_layers", -2, "mc_trainable_layers must be -1"),
    ("submit", "lm_random_examples", "submit: no variant 'lm_random_examples'; variants: lm_no_retrieval, lm_rag"),
])
def test_a_value_out_of_range_is_one_line(field, value, message):
    with pytest.raises(UserError, match=message):
        replace(SolutionConfig(), **{field: value}).validate()


@pytest.mark.parametrize("field, value", [("mc_trainable_layers", -1), ("examples", 0), ("submit", "finetuned_mc")])
def test_the_documented_special_values_stay_valid(field, value):
    config = config_from_options(SolutionConfig, {field: str(value)}, "--set")      # as `--set field=value` gives it
    config.validate()
    assert getattr(config, field) == value
