"""Static int8 of an encoder student: QDQ int8 MatMuls (the Q, K, V projections included, as
attention is not fused), calibrated on given inputs, close to fp32, one file and no temp left."""
import numpy as np
import onnx
import pytest

from common.errors import UserError
from common.training.text_classifier import TextClassifierConfig, load_classifier
from edge.classifier.export import export_onnx, onnx_logits, onnx_session
from edge.classifier.static_int8 import calibration_feeds, quantize_static_int8

TEXTS = ["Short one.", "A somewhat longer sentence with more tokens.", "In conclusion, it is important.",
         "Photosynthesis turns light into chemical energy.", "The essay argues for a four-day week."] * 4


def test_static_int8_quantizes_every_matmul_and_stays_close(tmp_path, caplog):
    model, tokenizer = load_classifier(TextClassifierConfig(num_layers=1, seed=5))
    raw = export_onnx(model, tokenizer, tmp_path / "raw.onnx")
    feeds = calibration_feeds(tokenizer, TEXTS, max_length=32)
    assert len(feeds) == 3 and feeds[0]["input_ids"].shape[0] == 8
    out = quantize_static_int8(raw, tmp_path / "static.onnx", feeds, model.config.num_attention_heads,
                               model.config.hidden_size)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.onnx", "static.onnx"]
    assert "pre-processing" not in caplog.text           # onnxruntime's advice, which a user cannot act on
    graph = onnx.load(str(out)).graph
    ops = [n.op_type for n in graph.node]
    assert "Attention" not in ops and ops.count("DequantizeLinear") >= ops.count("MatMul") > 0
    got = onnx_logits(onnx_session(out), tokenizer, TEXTS[:5], 32)
    want = onnx_logits(onnx_session(raw), tokenizer, TEXTS[:5], 32)
    assert np.abs(got - want).max() < 0.1 * np.abs(want).max() + 0.05


def test_no_calibration_inputs_is_a_user_error(tmp_path):
    (tmp_path / "raw.onnx").write_bytes(b"")
    with pytest.raises(UserError, match="calibration"):
        quantize_static_int8(tmp_path / "raw.onnx", tmp_path / "s.onnx", [], 12, 384)
