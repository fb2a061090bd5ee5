"""The causal-LM variant catalog (edge/generator/variants.py): names, graphs, calibrated variants."""
from __future__ import annotations

import pytest

from edge.generator.variants import (DYNAMIC_SMOOTH, QAT_RECIPES, SHIPPABLE, SMOOTH, SMOOTH_ALPHA, VARIANTS,
                                     dynamic_smooth_variant, qat_variant, smooth_variant)


def test_every_variant_is_listed_under_its_own_name_and_shippable_names_are_unique():
    assert all(name == variant.name and variant.note for name, variant in VARIANTS.items())
    assert len(SHIPPABLE) == len(set(SHIPPABLE))
    assert {SMOOTH, DYNAMIC_SMOOTH, *QAT_RECIPES} <= set(SHIPPABLE) and not {SMOOTH, DYNAMIC_SMOOTH} & set(VARIANTS)
    assert all(base in VARIANTS for base, _ in QAT_RECIPES.values())


def test_smoothed_variants_keep_their_bases_graph_and_record_alpha_and_texts():
    for make, name, base in ((smooth_variant, SMOOTH, "int8"), (dynamic_smooth_variant, DYNAMIC_SMOOTH, "int8-dynamic")):
        variant = make("texts-id")
        assert (variant.name, variant.smooth, variant.calibration) == (name, SMOOTH_ALPHA, "texts-id")
        assert variant.with_(name=base, smooth=0.0, calibration="", note=VARIANTS[base].note) == VARIANTS[base]
        assert make("texts-id", alpha=0.8).smooth == 0.8


def test_qat_variant_refuses_a_recipe_whose_grid_is_not_its_bases(monkeypatch):
    monkeypatch.setitem(QAT_RECIPES, "int4-b16-qat", ("int4-b16", {"block": 32}))
    with pytest.raises(ValueError, match=r"block 32, symmetric True, head bits 4 are not int4-b16's \(16, True, 4\)"):
        qat_variant("t", "int4-b16-qat")
    monkeypatch.setitem(QAT_RECIPES, "int4-sym-on-asym", ("int4-asym-head8", {}))
    with pytest.raises(ValueError, match=r"are not int4-asym-head8's \(32, False, 8\)"):
        qat_variant("t", "int4-sym-on-asym")
