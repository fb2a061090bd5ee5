"""RecoveryConfig.validate: a value out of range is one line; the documented special values stay valid."""
from dataclasses import replace

import pytest

from common.errors import UserError
from common.options import config_from_options
from competitions.prompt_recovery.config import RecoveryConfig


@pytest.mark.parametrize("field, value, message", [
    ("lora_lr", -1e-3, "lora_lr above 0"),
    ("lora_alpha", 0, "lora_alpha must be at least 1"),
])
def test_a_value_out_of_range_is_one_line(field, value, message):
    with pytest.raises(UserError, match=message):
        replace(RecoveryConfig(), **{field: value}).validate()


@pytest.mark.parametrize("field, value", [("lora_layers", 0), ("lora_folds", 0)])
def test_the_documented_special_values_stay_valid(field, value):
    config = config_from_options(RecoveryConfig, {field: str(value)}, "--set")      # as `--set field=value` gives it
    config.validate()
    assert getattr(config, field) == value
