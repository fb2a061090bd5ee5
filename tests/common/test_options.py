"""One rule for `--set`: unknown keys are refused, values are cast to the field's type."""
from dataclasses import dataclass

import pytest

from common.errors import UserError
from common.options import config_from_options


@dataclass(frozen=True)
class Demo:
    name: str = "x"
    top_k: int = 3
    lr: float = 1e-3
    lora: bool = False


def test_values_are_cast_to_the_field_types():
    cfg = config_from_options(Demo, {"top_k": "5", "lr": "0.01", "lora": "yes", "name": "y"}, "demo")
    assert cfg == Demo(name="y", top_k=5, lr=0.01, lora=True)
    assert config_from_options(Demo, {}, "demo") == Demo()


def test_unknown_keys_are_refused_naming_the_known_ones():
    with pytest.raises(UserError, match=r"unknown demo option\(s\) topk; known: lora, lr, name, top_k"):
        config_from_options(Demo, {"topk": "5"}, "demo")


@pytest.mark.parametrize("key, raw", [("top_k", "five"), ("lora", "maybe"), ("lr", ""), ("lr", "nan"), ("lr", "inf"),
                                      ("lr", "-inf")])
def test_values_of_the_wrong_type_are_refused(key, raw):
    with pytest.raises(UserError, match=f"--set {key}="):
        config_from_options(Demo, {key: raw}, "demo")


def test_an_override_contradicting_an_option_is_refused():
    assert config_from_options(Demo, {"top_k": "4"}, "demo", top_k=4).top_k == 4
    with pytest.raises(UserError, match="contradicts"):
        config_from_options(Demo, {"top_k": "4"}, "demo", top_k=5)
