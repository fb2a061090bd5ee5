"""Quantization of an exported ONNX model. int8: a smaller file with integer matmuls whose outputs
stay close. int4: MatMulNBits weights where onnxruntime's quantizer can run (it needs onnx_ir),
and one UserError that names the missing module where it cannot; each test checks one of these."""
import builtins

import numpy as np
import onnx
import pytest

from common.errors import UserError
from common.training.text_classifier import TextClassifierConfig, load_classifier
from edge.classifier.export import export_onnx, onnx_logits, onnx_session
from edge.quantize import (DYNAMIC_INT8_SMOKE_TOLERANCE, bundle_smoke_tolerance, quantize_int4, quantize_int8,
                           ranges_span_the_batch)

TEXTS = ["Short one.", "A somewhat longer sentence with more tokens.", "In conclusion, it is important."]


@pytest.fixture(scope="module")
def fp32(tmp_path_factory):
    model, tokenizer = load_classifier(TextClassifierConfig(num_layers=1, seed=5))
    return export_onnx(model, tokenizer, tmp_path_factory.mktemp("q") / "fp32.onnx"), tokenizer


def ops(path) -> set[str]:
    return {node.op_type for node in onnx.load(str(path)).graph.node}


def float_weight_matmuls(path) -> list[str]:
    """MatMul nodes that still multiply by a float weight (activation x activation ones excluded)."""
    graph = onnx.load(str(path)).graph
    weights = {t.name for t in graph.initializer}
    return [n.name for n in graph.node if n.op_type == "MatMul" and weights & set(n.input)]


def test_int8_is_smaller_and_close(fp32, tmp_path, caplog):
    path, tokenizer = fp32
    int8 = quantize_int8(path, tmp_path / "int8.onnx")
    assert "pre-processing" not in caplog.text              # onnxruntime's advice, not for our users
    assert int8.stat().st_size < path.stat().st_size / 3
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops(int8)
    assert float_weight_matmuls(path) and not float_weight_matmuls(int8)  # every weight matmul is int8
    ref = onnx_logits(onnx_session(path), tokenizer, TEXTS, 32)
    got = onnx_logits(onnx_session(int8), tokenizer, TEXTS, 32)
    assert np.abs(got - ref).max() < 0.25


def test_missing_model_is_a_user_error(tmp_path):
    for quantize in (quantize_int8, quantize_int4):
        with pytest.raises(UserError, match="missing ONNX model"):
            quantize(tmp_path / "nope.onnx", tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


def test_int4_without_onnx_ir_names_what_to_install(fp32, tmp_path, monkeypatch):
    path, _ = fp32
    real_import = builtins.__import__

    def no_onnx_ir(name, *args, **kwargs):
        if name.split(".")[0] == "onnx_ir" or name.endswith("matmul_nbits_quantizer"):
            raise ModuleNotFoundError("No module named 'onnx_ir'", name="onnx_ir")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx_ir)
    with pytest.raises(UserError, match=r"int4 weight-only quantization is unavailable here: .*pip install onnx_ir"):
        quantize_int4(path, tmp_path / "int4.onnx")
    assert not (tmp_path / "int4.onnx").exists()


def test_int4_packs_matmul_weights_into_matmulnbits(fp32, tmp_path):
    path, tokenizer = fp32
    int4 = quantize_int4(path, tmp_path / "int4.onnx")
    assert "MatMulNBits" in ops(int4) and int4.stat().st_size < path.stat().st_size
    ref = onnx_logits(onnx_session(path), tokenizer, TEXTS, 32)
    got = onnx_logits(onnx_session(int4), tokenizer, TEXTS, 32)
    assert np.abs(got - ref).max() < 0.5


def column_scales(path) -> list[str]:
    """Initializers named *_scale with more than one value: a weight's scale per output column."""
    return [t.name for t in onnx.load(str(path)).graph.initializer if t.name.endswith("_scale") and sum(t.dims) > 1]


def test_the_default_dynamic_int8_candidate_scales_each_weight_column(fp32, tmp_path):
    from edge.candidates import DEFAULT_QUANTIZERS

    path, tokenizer = fp32
    per_column = DEFAULT_QUANTIZERS["onnx int8"].fn(path, tmp_path / "int8.onnx")
    per_tensor = quantize_int8(path, tmp_path / "per-tensor.onnx")
    assert column_scales(per_column) and not column_scales(per_tensor)
    ref = onnx_logits(onnx_session(path), tokenizer, TEXTS, 32)
    errors = [np.abs(onnx_logits(onnx_session(p), tokenizer, TEXTS, 32) - ref).mean() for p in (per_column, per_tensor)]
    assert errors[0] < errors[1]


def test_only_dynamic_int8_takes_its_activation_ranges_over_the_batch(fp32, tmp_path):
    onnx_path, _ = fp32
    assert ranges_span_the_batch(quantize_int8(onnx_path, tmp_path / "int8.onnx"))
    assert not ranges_span_the_batch(onnx_path)


def test_only_dynamic_int8_gets_the_wider_smoke_tolerance(fp32, tmp_path):
    onnx_path, _ = fp32
    int8 = quantize_int8(onnx_path, tmp_path / "int8.onnx")
    assert bundle_smoke_tolerance(int8, 1e-3) == DYNAMIC_INT8_SMOKE_TOLERANCE > 1e-3
    assert bundle_smoke_tolerance(int8, 0.5) == 0.5
    assert bundle_smoke_tolerance(onnx_path, 1e-3) == 1e-3
