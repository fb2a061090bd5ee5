"""`make edge`'s score gates (edge/config.py): the config's own values win, else the metric's."""
from __future__ import annotations

import pytest

from edge.config import EdgeConfig, edge_config, fast_config, gates


def test_a_score_in_0_1_gets_the_default_gates():
    assert gates(EdgeConfig(), "roc_auc") == (0.01, 0.02)


def test_log_loss_gets_wider_gates_and_map3_its_own_gap():
    assert gates(EdgeConfig(), "multiclass_logloss") == (0.05, 0.10)
    assert gates(EdgeConfig(), "map@3") == (0.01, 0.03)


def test_a_judge_score_gap_is_a_share_of_the_teacher_score():
    drop, gap = gates(EdgeConfig(), "judge_score", reference=-4.0)
    assert gap == pytest.approx(0.4)
    assert gates(EdgeConfig(), "judge_score")[1] == 0.02          # no reference: the plain default


def test_the_config_overrides_the_metric_defaults():
    config = EdgeConfig(max_int8_drop=0.2, teacher_gap=0.3)
    assert gates(config, "multiclass_logloss", reference=1.0) == (0.2, 0.3)
    assert gates(config, "judge_score", reference=10.0) == (0.2, 0.3)


def test_fast_config_is_one_round_of_a_small_student():
    config = fast_config(seed=7)
    assert (config.distill.num_layers, config.distill.seed, config.latency_rounds) == (1, 7, 1)
    assert config.max_int8_drop == 0.05


def test_edge_config_is_the_full_defaults_or_the_fast_ones_with_the_seed():
    assert edge_config(9) == EdgeConfig(distill=EdgeConfig().distill.__class__(seed=9))
    assert edge_config(9, fast=True) == fast_config(9) and edge_config().distill.seed == 42
