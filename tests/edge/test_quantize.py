"""Dynamic int8 quantization: a smaller file with integer matmuls that still gives close outputs."""
import numpy as np
import onnx
import pytest

from common.errors import UserError
from common.training.text_classifier import TextClassifierConfig, load_classifier
from edge.export_onnx import export_onnx, onnx_logits, onnx_session
from edge.quantize import quantize_int4, quantize_int8

TEXTS = ["Short one.", "A somewhat longer sentence with more tokens.", "In conclusion, it is important."]


@pytest.fixture(scope="module")
def fp32(tmp_path_factory):
    model, tokenizer = load_classifier(TextClassifierConfig(num_layers=1, seed=5))
    return export_onnx(model, tokenizer, tmp_path_factory.mktemp("q") / "fp32.onnx"), tokenizer


def test_int8_is_smaller_and_close(fp32, tmp_path):
    path, tokenizer = fp32
    int8 = quantize_int8(path, tmp_path / "int8.onnx")
    assert int8.stat().st_size < path.stat().st_size / 3
    ops = {node.op_type for node in onnx.load(str(int8)).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops
    ref = onnx_logits(onnx_session(path), tokenizer, TEXTS, 32)
    got = onnx_logits(onnx_session(int8), tokenizer, TEXTS, 32)
    assert np.abs(got - ref).max() < 0.25


def test_missing_model_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="missing ONNX model"):
        quantize_int8(tmp_path / "nope.onnx", tmp_path / "out.onnx")


def test_int4_works_or_says_why(fp32, tmp_path):
    path, _ = fp32
    try:
        out = quantize_int4(path, tmp_path / "int4.onnx")
    except UserError as err:
        assert "int4" in str(err)
    else:
        assert "MatMulNBits" in {n.op_type for n in onnx.load(str(out)).graph.node}
