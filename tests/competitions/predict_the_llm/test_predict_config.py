"""PredictConfig.validate: every count at least 1, every rate and strength above 0, one line each."""
from dataclasses import replace

import pytest

from common.errors import UserError
from competitions.predict_the_llm.config import PredictConfig


def test_the_defaults_are_valid():
    assert PredictConfig().validate() == PredictConfig()


@pytest.mark.parametrize("field, value, message", [
    ("tfidf_c", 0.0, "tfidf_c must be above 0"), ("lgbm_lr", -0.1, "lgbm_lr must be above 0"),
    ("encoder_lr", 0.0, "encoder_lr must be above 0"), ("lora_lr", -1e-3, "lora_lr must be above 0"),
    ("lora_alpha", 0, "lora_alpha must be at least 1"), ("encoder_max_length", 0, "encoder_max_length must be"),
    ("lgbm_rounds", 0, "lgbm_rounds must be at least 1"), ("clip", 0.5, "clip must lie in"),
])
def test_a_setting_out_of_range_is_one_line(field, value, message):
    with pytest.raises(UserError, match=message):
        replace(PredictConfig(), **{field: value}).validate()
