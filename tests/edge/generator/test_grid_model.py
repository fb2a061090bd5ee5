"""Random weights of a model's shape on the zoo's GGUF grids (edge/generator/grid_model.py), and the
shape_speed bench's measurement on the tiny Llama's exports (its flags: tests/bench/test_shape_speed.py)."""
import numpy as np
import pytest

from edge.generator.grid_model import grid_model, on_q41_grid, on_q80_grid
from edge.generator.q41 import q41_codes, q80_codes


def test_weights_put_on_the_q41_grid_give_its_codes_back_exactly():
    w = np.random.default_rng(0).normal(0, 0.02, (8, 96)).astype(np.float32)
    grid = on_q41_grid(w)
    codes, scales, zero, leftover, off_grid = q41_codes(grid)
    assert off_grid < 1e-4
    step = (w.reshape(8, 3, 32).max(-1) - w.reshape(8, 3, 32).min(-1)) / 15
    assert np.all(np.abs(grid - w).reshape(8, 3, 32).max(-1) <= step / 2 + 1e-7)
    assert np.array_equal(on_q41_grid(grid), grid)


def test_weights_put_on_the_q80_grid_give_its_codes_back_exactly():
    w = np.random.default_rng(1).normal(0, 0.02, (4, 64)).astype(np.float32)
    grid = on_q80_grid(w)
    assert q80_codes(grid)[2] < 1e-4
    assert not np.array_equal(grid, w) and np.allclose(grid, w, atol=np.abs(w).max() / 127)


def test_the_grid_model_has_the_source_shape_and_its_linears_on_the_grids(tiny_llm, tmp_path, monkeypatch):
    from safetensors.numpy import load_file

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    folder = grid_model(tiny_llm, seed=3, log=lambda *_: None)
    assert (folder / "config.json").read_text().count("hidden_size") == 1
    assert (folder / "tokenizer.json").exists()
    weights = load_file(str(folder / "model.safetensors"))
    source = load_file(str(tiny_llm / "model.safetensors"))
    assert weights.keys() == source.keys()
    for name, w in weights.items():
        assert w.shape == source[name].shape
        if name.endswith(("proj.weight",)):
            assert q41_codes(w)[4] < 1e-4, name
        elif name.endswith(("embed_tokens.weight", "lm_head.weight")):
            assert q80_codes(w)[2] < 1e-4, name
    assert grid_model(tiny_llm, seed=3, log=pytest.fail) == folder  # cached: nothing built again
    assert grid_model(tiny_llm, seed=4, log=lambda *_: None) != folder


def test_shape_speed_measures_each_variant_against_its_fp32_round_by_round(tiny_exports):
    from bench.shape_speed import OWN, format_table, measure

    folders = {"fp32": tiny_exports["fp32"], "fp32" + OWN: tiny_exports["fp32"],
               "int4": tiny_exports["int4"], "int4" + OWN: tiny_exports["int4"]}  # the same exports twice
    result = measure(folders, threads=[1], rounds=2)
    rows = {r["variant"]: r for r in result["rows"]}
    assert set(rows) == set(folders) and len(result["read_gb_s"]["1"]) == 2
    assert rows["fp32"]["ratio"] == rows["fp32" + OWN]["ratio"] == (1.0, 1.0, 1.0)
    mid, low, high = rows["int4"]["decode_tok_s"]  # median, min, max
    assert 0 < low <= mid <= high and rows["int4"]["ratio"][0] > 0 and 0 < rows["int4"]["roofline"]
    assert rows["int4" + OWN]["ratio"] != rows["int4"]["ratio"]  # its own base, other timings
    assert rows["int4"]["grid_vs_own"][0] > 0 and rows["int4" + OWN]["grid_vs_own"] is None
    assert rows["int4"]["size_mb"] < rows["fp32"]["size_mb"]
    table = format_table(result["rows"])
    assert "random / own weights" in table and "| int4 (own) | 1 |" in table


def test_a_shape_no_block_of_32_fits_is_left_random(tmp_path, monkeypatch):
    from safetensors.numpy import load_file
    from transformers import LlamaConfig

    source = tmp_path / "odd"
    LlamaConfig(vocab_size=64, hidden_size=48, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                num_key_value_heads=1, head_dim=24).save_pretrained(source)
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    weights = load_file(str(grid_model(source, log=lambda *_: None) / "model.safetensors"))
    down, up = weights["model.layers.0.mlp.down_proj.weight"], weights["model.layers.0.mlp.up_proj.weight"]
    assert q41_codes(down)[4] < 1e-4 and len(np.unique(down[0])) <= 32  # K = 64: two blocks of 16 levels
    assert up.shape == (64, 48) and len(np.unique(up[0])) == 48         # K = 48: as drawn
