"""One trainer vocabulary: every trainer config is a TrainConfig, threads default like common.models,
and a training session seeds, pins threads and restores torch's settings."""
from dataclasses import FrozenInstanceError, fields

import numpy as np
import pytest
import torch

from common.errors import UserError
from common.threads import default_threads
from common.training.config import TrainConfig, training_session
from common.training.multiple_choice import MultipleChoiceConfig
from common.training.text_classifier import TextClassifierConfig
from edge.classifier.distill import DistillConfig

SHARED = {"model", "epochs", "batch_size", "learning_rate", "weight_decay", "warmup_ratio", "max_length",
          "seed", "threads", "deterministic", "show_progress_bar", "lora", "lora_r", "lora_alpha",
          "lora_target_modules"}


@pytest.mark.parametrize("config", [TextClassifierConfig, MultipleChoiceConfig, DistillConfig])
def test_every_trainer_config_speaks_the_shared_vocabulary(config):
    assert issubclass(config, TrainConfig)
    assert SHARED <= {f.name for f in fields(config)}
    assert not {"encoder", "lr", "show_progress"} & {f.name for f in fields(config)}
    with pytest.raises(FrozenInstanceError):
        config().seed = 1  # a config is a value: repr() and asdict() key caches


def test_threads_default_is_the_one_common_models_uses(monkeypatch):
    from common import models

    monkeypatch.setenv("KLLM_THREADS", "3")
    assert default_threads() == models._threads() == 3
    assert TrainConfig().threads == 3 and TextClassifierConfig().threads == 3
    monkeypatch.delenv("KLLM_THREADS")
    assert TrainConfig().threads == default_threads() == (__import__("os").cpu_count() or 1)
    monkeypatch.setenv("KLLM_THREADS", "zero")
    with pytest.raises(UserError, match="KLLM_THREADS"):
        TrainConfig()


def test_training_session_seeds_pins_threads_and_restores():
    before = torch.get_num_threads()
    cfg = TrainConfig(seed=5, threads=1)
    with training_session(cfg):
        assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled()
        first = (torch.rand(3), np.random.rand(3))
    with training_session(cfg):
        second = (torch.rand(3), np.random.rand(3))
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert torch.get_num_threads() == before and not torch.are_deterministic_algorithms_enabled()
