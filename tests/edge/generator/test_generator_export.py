"""The exporter: builder arguments, the input hash, the cache, and real exports of the tiny Llama."""
from __future__ import annotations

import json
import subprocess

import pytest

import edge.generator.export as export
from common.errors import UserError
from edge.generator.calibrate import texts_id
from edge.generator.export import SIZES_FILE, builder_argv, build_named, build_variant, damaged_export, size_mb, variant_key
from edge.generator.variants import (DYNAMIC_SMOOTH, MATMULS, QAT, QAT_B128, SMOOTH, SMOOTH_ALPHA, VARIANTS,
                                     dynamic_smooth_variant)


def test_builder_argv_passes_options_and_int8_layers(tmp_path):
    variant = VARIANTS["int4"].with_(name="mixed", int8_layers=(3, 7))
    argv = builder_argv(variant, tmp_path / "src", tmp_path / "out", tmp_path / "hf")
    assert argv[argv.index("-p") + 1] == "int4" and argv[argv.index("-e") + 1] == "cpu"
    assert "accuracy_level=4" in argv
    overrides = json.loads(argv[argv.index("--target_options") + 1])["quant_config"]["weights"]["overrides"]
    assert len(overrides) == 2 * len(MATMULS)
    assert {"match": {"name": "/model/layers.7/mlp/down_proj/MatMul"}, "type": "int8"} in overrides


def test_the_cache_key_changes_with_any_field_and_the_source():
    int4 = VARIANTS["int4"]
    keys = {variant_key(int4, "a"), variant_key(int4, "b"), variant_key(VARIANTS["int4-acc1"], "a"),
            variant_key(int4.with_(drop_layers=(5,)), "a"), variant_key(int4.with_(int8_layers=(1,)), "a"),
            variant_key(int4.with_(regrid="q41"), "a"), variant_key(int4.with_(smooth=0.5), "a"),
            variant_key(int4.with_(dynamic=True), "a"), variant_key(int4.with_(shortlist=64), "a")}
    assert len(keys) == 9 and variant_key(int4, "a") == variant_key(VARIANTS["int4"], "a")


def test_a_field_added_later_stays_out_of_the_key_when_unset(monkeypatch):
    hashed = []
    monkeypatch.setattr(export, "json_key", lambda value, **_: hashed.append(value) or "key")
    variant_key(VARIANTS["int4"], "a")
    variant_key(VARIANTS["int4-q41-fold-head4-top64"], "a")
    assert "shortlist" not in hashed[0][0] and hashed[1][0]["shortlist"] == 64   # old folders keep their keys


def test_build_named_smooths_on_the_callers_texts_and_refuses_unknown_names(monkeypatch):
    built = []
    monkeypatch.setattr(export, "build_variant", lambda variant, model, texts=None, log=print: built.append(
        (variant, model, texts)) or variant.name)
    assert build_named("int4-q41", "smollm2") == "int4-q41" and built[-1] == (VARIANTS["int4-q41"], "smollm2", None)
    texts = ["a passage to smooth on", "and another"]
    assert build_named(SMOOTH, "smollm2", texts) == SMOOTH
    variant, _, given = built[-1]
    assert given == texts and variant.calibration == texts_id(texts) and variant.smooth > 0
    assert variant.precision == "int8" and variant.options == VARIANTS["int8"].options   # int8's graph and kernels
    with pytest.raises(UserError, match="calibration texts"):
        build_named(SMOOTH, "smollm2")
    assert build_named(DYNAMIC_SMOOTH, "smollm2", texts) == DYNAMIC_SMOOTH   # the study's derived row, by name
    variant = built[-1][0]
    assert variant.calibration == texts_id(texts) and variant.smooth == SMOOTH_ALPHA
    assert variant == dynamic_smooth_variant(texts_id(texts)) and variant.dynamic == VARIANTS["int8-dynamic"].dynamic
    assert build_named(QAT, "smollm2", texts) == QAT
    variant, _, given = built[-1]
    assert given == texts and variant.calibration == texts_id(texts) and variant.qat
    assert variant.precision == "int4" and variant.options == VARIANTS["int4"].options   # int4's graph and kernels
    with pytest.raises(UserError, match="int4-qat needs calibration texts"):
        build_named(QAT, "smollm2")
    assert build_named(QAT_B128, "smollm2", texts) == QAT_B128
    variant = built[-1][0]
    assert variant.options == VARIANTS["int4-b128"].options and dict(variant.qat)["block"] == 128
    with pytest.raises(UserError, match="no generator variant 'int3'"):
        build_named("int3")


def test_exports_are_cached_and_int4_is_smaller(tiny_exports, tiny_llm, generator_cache, monkeypatch):
    fp32, int4 = tiny_exports["fp32"], tiny_exports["int4"]
    for folder in (fp32, int4):
        assert {"genai_config.json", "model.onnx", "tokenizer.json", "VARIANT.json"} <= {p.name for p in folder.iterdir()}
        assert not list(folder.parent.glob(f".{folder.name}.tmp-*"))      # the temp folder was renamed in
    assert json.loads((int4 / "VARIANT.json").read_text())["variant"]["precision"] == "int4"
    assert size_mb(int4) < 0.6 * size_mb(fp32)   # the untied fp32 embedding (12.6 MB) stays fp32 in both
    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("a cached variant was rebuilt"))
    assert build_variant(VARIANTS["int4"], str(tiny_llm), log=lambda *_: None) == int4


def test_a_failing_build_is_one_line_and_leaves_no_folder(tiny_llm, tmp_path, monkeypatch):
    from common.errors import UserError

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    failed = subprocess.CompletedProcess([], 1, "", "Traceback ...\nValueError: block_size must be 16/32/64\n")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: failed)
    bad = VARIANTS["int4"].with_(name="bad", options=(("block_size", "7"),))
    with pytest.raises(UserError, match="failed for variant bad: ValueError: block_size must be 16/32/64$"):
        build_variant(bad, str(tiny_llm), log=lambda *_: None)
    assert not list((tmp_path / "generator").iterdir())


def test_regrid_options_name_the_fold_and_the_q41_variants_share_one_base_export():
    from edge.generator.export import regrid_options

    assert regrid_options("q41") == {"fold": "branch"} and regrid_options("q41-round") == {"fold": "none"}
    assert regrid_options("q41-fold2") == {"fold": "inputs", "digits": 2}
    assert {VARIANTS[n].options for n in ("int4-q41", "int4-q41-fold", "int4-q41-fold1")} == {VARIANTS["int4-q41"].options}
    assert VARIANTS["int8-q41"].options == VARIANTS["int8"].options          # built from the builder's int8


def test_derived_variants_keep_the_most_sensitive_layers_int8_for_each_count():
    from edge.generator.study import StudyConfig, derived_variants

    sensitivity = [0.1, 0.5, 0.0, 0.3, 0.2, 0.05]
    variants = {v.name: v for v in derived_variants(sensitivity, [0.9, 0.1, 0.5, 0.2, 0.8, 0.9],
                                                    StudyConfig(mixed_layers=(1, 3), prune_blocks=2), "c")}
    assert variants["int4-mixed1"].int8_layers == (1,) and variants["int4-mixed3"].int8_layers == (1, 3, 4)
    assert variants["int4-pruned"].drop_layers == (1, 3)                     # never the first or last block
    assert variants["int8-smooth"].smooth == 0.5 and variants["int8-smooth"].calibration == "c"
    assert variants["int8-smooth"].precision == "int8"
    dynamic = variants["int8-dynamic-smooth"]
    assert dynamic.dynamic and dynamic.precision == "fp32" and (dynamic.smooth, dynamic.calibration) == (0.5, "c")
    with pytest.raises(UserError, match="prune blocks 5: the model has 6 blocks and keeps its first and last, so at "
                                         "most 4 can go"):      # it cut 4 and reported them as 5
        derived_variants(sensitivity, [0.9] * 6, StudyConfig(prune_blocks=5), "c")


def test_qat_variants_are_derived_only_when_named_and_train_on_their_own_grid_and_texts():
    import dataclasses

    from edge.generator.qat import QATConfig
    from edge.generator.study import StudyConfig, derived_names, derived_variants
    from edge.generator.variants import QAT_RECIPES

    config = StudyConfig(mixed_layers=(1,), prune_blocks=1)
    assert {"int4-qat", "int4-b64-qat", "int4-b128-qat", "int4-b128-lsq", "int4-asym-qat",
            "int4-asym-qat-long", "int4-asym-qat-top1", "int4-asym-head4-qat"} == set(QAT_RECIPES)
    assert set(QAT_RECIPES) <= set(derived_names(config))
    assert not set(QAT_RECIPES) & {v.name for v in derived_variants([0.0] * 4, [0.0] * 4, config, "c", "t")}
    named = dataclasses.replace(config, derived_only=tuple(QAT_RECIPES))
    variants = {v.name: v for v in derived_variants([0.0] * 4, [0.0] * 4, named, "c", "t")}
    assert QATConfig(**dict(variants["int4-qat"].qat)) == QATConfig()
    assert [n for n in QAT_RECIPES if QATConfig(**dict(variants[n].qat)).scale_lr] == ["int4-b128-lsq"]
    assert [n for n in QAT_RECIPES if QATConfig(**dict(variants[n].qat)).top1_weight] == ["int4-asym-qat-top1"]
    for name, (base_name, _) in QAT_RECIPES.items():
        variant, base = variants[name], VARIANTS[base_name]
        assert variant.calibration == "t" and variant.with_(name=base_name, qat=(), calibration="", note=base.note) == base
        assert QATConfig(**dict(variant.qat)).block == int(dict(base.options).get("block_size", 32))
    assert QATConfig(**dict(variants["int4-asym-qat"].qat)).grid() == QATConfig(symmetric=False, head_bits=8).grid()
    assert QATConfig(**dict(variants["int4-asym-head4-qat"].qat)).grid() == QATConfig(symmetric=False).grid()


def test_int8_dynamic_quantizes_every_weight_matmul_of_the_fp32_export(tiny_exports, tiny_llm, generator_cache,
                                                                     monkeypatch, tmp_path):
    import numpy as np
    import onnx

    from edge.generator.logits_from import add_logits_from
    from edge.runtime.causal_lm import CausalLM

    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))
    folder = build_variant(VARIANTS["int8-dynamic"], str(tiny_llm), log=lambda *_: None)
    assert folder == tiny_exports["int8-dynamic"]
    assert {"genai_config.json", "tokenizer.json", "model.onnx", "model.onnx.data"} <= {p.name for p in folder.iterdir()}
    ops = [n.op_type for n in onnx.load(str(folder / "model.onnx"), load_external_data=False).graph.node]
    fp32_ops = [n.op_type for n in onnx.load(str(tiny_exports["fp32"] / "model.onnx"), load_external_data=False).graph.node]
    assert ops.count("MatMulInteger") == fp32_ops.count("MatMul") > 0 and "MatMul" not in ops
    counts = json.loads((folder / "VARIANT.json").read_text())["dynamic"]
    assert counts == {"dynamic_matmuls": fp32_ops.count("MatMul"), "matmuls_left": 0}
    # 7-bit weights: full 8-bit ones saturate the pairwise int16 sums of u8*s8 on x86 without VNNI
    model = onnx.load(str(folder / "model.onnx"))
    weights = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8}
    matmul_weights = [weights[n.input[1]] for n in model.graph.node if n.op_type == "MatMulInteger"]
    assert len(matmul_weights) == ops.count("MatMulInteger")
    assert max(int(abs(w).max()) for w in matmul_weights) == 64     # onnxruntime's 7-bit range is -64..64
    ids = list(range(5, 40))
    exact, got = CausalLM(tiny_exports["fp32"]).forward(ids), CausalLM(folder).forward(ids)
    assert got.shape == exact.shape and 0 < float(np.abs(got - exact).max()) < 0.1 * float(np.abs(exact).max())
    assert add_logits_from(folder / "model.onnx", tmp_path / "model.onnx").startswith("/lm_head")  # its head too


def test_int4_gateup_puts_gate_and_up_in_one_matmul_on_the_same_int4_weights(tiny_exports, tiny_llm,
                                                                           generator_cache, monkeypatch):
    import numpy as np
    import onnx

    from edge.runtime.causal_lm import CausalLM

    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))
    folder = build_variant(VARIANTS["int4-gateup"], str(tiny_llm), log=lambda *_: None)
    names = [n.name for n in onnx.load(str(folder / "model.onnx"), load_external_data=False).graph.node
             if n.op_type == "MatMulNBits"]
    plain = [n.name for n in onnx.load(str(tiny_exports["int4"] / "model.onnx"), load_external_data=False).graph.node
             if n.op_type == "MatMulNBits"]
    assert sum("gate_up_proj" in n for n in names) == 2 and not any("/gate_proj/" in n for n in names)
    assert len(names) == len(plain) - 2                   # one MatMulNBits fewer a layer, tiny Llama's 2 layers
    ids = list(range(5, 40))
    int4, fused = CausalLM(tiny_exports["int4"]).forward(ids), CausalLM(folder).forward(ids)
    # rows of a weight are quantized one by one, so the concatenated weight holds int4's codes exactly
    assert fused.shape == int4.shape and np.allclose(fused, int4, atol=1e-4 * float(np.abs(int4).max()))


def test_too_many_prune_blocks_are_refused_before_any_export(tiny_llm, monkeypatch):
    import edge.generator.study as study

    def no_export(*args, **kwargs):
        raise AssertionError("exported before the refusal")

    monkeypatch.setattr(study, "build_variant", no_export)
    config = study.StudyConfig(model=str(tiny_llm), prune_blocks=1)       # 2 blocks: neither may go
    with pytest.raises(UserError, match="prune blocks 1: the model has 2 blocks and keeps its first and last, so at most 0"):
        study.run_study(["held-out text"], ["calibration text"], config)


def test_a_cached_export_that_was_truncated_or_lost_a_file_is_exported_again(tiny_exports, tiny_llm, tmp_path,
                                                                               monkeypatch):
    import shutil

    int4 = tiny_exports["int4"]
    assert damaged_export(int4) is None and (int4 / SIZES_FILE).is_file()
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    copy = tmp_path / "generator" / int4.name
    shutil.copytree(int4, copy)
    weights = max((p for p in copy.iterdir() if p.name.startswith("model.onnx")), key=lambda p: p.stat().st_size)
    weights.write_bytes(weights.read_bytes()[:1000])
    assert damaged_export(copy).startswith(f"has {weights.name} at 1000 bytes, built at ")
    said = []
    assert build_variant(VARIANTS["int4"], str(tiny_llm), log=said.append) == copy
    assert any("exporting it again" in line for line in said) and damaged_export(copy) is None
    (copy / SIZES_FILE).write_text("[]")
    assert damaged_export(copy) == f"has a damaged {SIZES_FILE}"
    (copy / "model.onnx").unlink()
    assert damaged_export(copy) == "lacks model.onnx"


def test_a_variant_derived_from_another_export_keeps_its_own_sizes(tiny_exports):
    dynamic = tiny_exports["int8-dynamic"]                      # copies the fp32 export's side files
    assert damaged_export(dynamic) is None
    assert json.loads((dynamic / SIZES_FILE).read_text()) != json.loads((tiny_exports["fp32"] / SIZES_FILE).read_text())
