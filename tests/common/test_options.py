"""One rule for `--set`: unknown keys are refused, values are cast to the field's type."""
from dataclasses import dataclass

import pytest

from common.errors import UserError
from common.options import config_from_options, file_option, model_option


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


@dataclass(frozen=True)
class Looked:
    lm: str = model_option("causal_lm", "smollm2")
    encoder: str = model_option("encoder", "minilm")
    memory: str = file_option()
    corpus: str = file_option(folder_too=True)


@pytest.mark.parametrize("key, raw, fragment", [
    ("lm", "nosuch", "--set lm=nosuch: unknown model 'nosuch'"),
    ("lm", "minilm", "--set lm=minilm: model 'minilm' is of kind 'encoder', not 'causal_lm'"),
    ("encoder", "", "--set encoder=: empty model name"),
    ("memory", "/no/such/file.csv", "--set memory=/no/such/file.csv: no such file"),
    ("memory", ".", "--set memory=.: a folder, not a file"),
    ("corpus", "/nope.parquet", "--set corpus=/nope.parquet: no such file or folder"),
])
def test_models_and_files_that_are_not_here_are_refused_when_the_options_are_read(key, raw, fragment):
    with pytest.raises(UserError, match=fragment.replace("(", r"\(")):
        config_from_options(Looked, {key: raw}, "demo")


def test_models_and_files_that_are_here_pass_and_nothing_is_loaded_or_recorded(tmp_path):
    from common.models import used_models

    before = used_models()
    (tmp_path / "m.csv").write_text("id\n")
    cfg = config_from_options(Looked, {"lm": "smollm2", "encoder": "minilm", "memory": str(tmp_path / "m.csv"),
                                       "corpus": str(tmp_path)}, "demo")
    assert (cfg.lm, cfg.memory, cfg.corpus) == ("smollm2", str(tmp_path / "m.csv"), str(tmp_path))
    assert config_from_options(Looked, {"corpus": str(tmp_path / "m.csv")}, "demo").corpus == str(tmp_path / "m.csv")
    assert used_models() == before          # a Kaggle bundle still carries only the models a run loaded


def test_a_blank_model_is_refused_unless_it_means_none():
    @dataclass(frozen=True)
    class Optional:
        lm: str = model_option("causal_lm", "smollm2", blank_is_none=True)

    assert config_from_options(Optional, {"lm": ""}, "demo").lm == ""
    with pytest.raises(UserError, match="--set lm=: empty model name"):
        config_from_options(Looked, {"lm": ""}, "demo")


def test_a_default_is_not_looked_up_only_a_given_value():
    @dataclass(frozen=True)
    class Later:
        lm: str = model_option("causal_lm", "a-model-this-machine-lacks")

    assert config_from_options(Later, {}, "demo") == Later()     # the solution meets it when it loads it


def test_a_name_list_keeps_each_name_once_in_order_and_refuses_unknown_or_none():
    from common.options import name_list

    known = ("tfidf_linear", "tfidf_lgbm", "lm_perplexity")
    assert name_list(" tfidf_linear, tfidf_lgbm,tfidf_linear ", known, "members") == ["tfidf_linear", "tfidf_lgbm"]
    assert name_list("", known, "members") == [] and name_list("  ", known, "members") == []
    with pytest.raises(UserError, match=r"members: unknown \(none given\); known: tfidf_linear, tfidf_lgbm, lm_perplexity"):
        name_list(" , ", known, "members")
    with pytest.raises(UserError, match=r"members: unknown \(none given\)"):
        name_list("", known, "members", allow_empty=False)
    with pytest.raises(UserError, match="attacks: unknown gpt5, x; known"):
        name_list("tfidf_linear,gpt5,x", known, "attacks")
