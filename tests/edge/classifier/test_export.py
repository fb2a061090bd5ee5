"""ONNX export: same logits as PyTorch (parity), any batch size and sequence length, texts or pairs."""
import numpy as np
import onnx

from common.training.text_classifier import TextClassifierConfig, load_classifier
from edge.classifier.export import OPSET, check_parity, export_onnx, onnx_logits, onnx_session

PAIRS = [("Which word?", "This one."), ("A longer question about many things " * 4, "x"), ("q", "a response")]
TEXTS = ["Short one.", "A somewhat longer sentence with more tokens in it than the first.",
         "In conclusion, technology offers numerous benefits.", "i dont know lol", "x"]


def tiny_model(num_labels: int = 2):
    return load_classifier(TextClassifierConfig(num_layers=1, num_labels=num_labels, seed=3))


def test_onnx_matches_pytorch(tmp_path):
    model, tokenizer = tiny_model()
    path = export_onnx(model, tokenizer, tmp_path / "m.onnx")
    report = check_parity(model, tokenizer, path, TEXTS, max_length=24, batch_size=2)
    assert report.texts == len(TEXTS)
    assert report.max_abs_diff < 1e-4 and report.ok()
    graph = onnx.load(str(path))
    assert graph.opset_import[0].version == OPSET
    assert [i.name for i in graph.graph.input] == ["input_ids", "attention_mask", "token_type_ids"]


def test_dynamic_batch_and_sequence_axes(tmp_path):
    model, tokenizer = tiny_model()
    path = export_onnx(model, tokenizer, tmp_path / "m.onnx")
    session = onnx_session(path)
    one = onnx_logits(session, tokenizer, TEXTS[:1], max_length=64)
    five = onnx_logits(session, tokenizer, TEXTS * 3, max_length=64)
    assert one.shape == (1, 2) and five.shape == (15, 2)
    np.testing.assert_allclose(five[0], one[0], atol=1e-4)  # padding does not change a text's logits


def test_fused_graph_keeps_parity_and_fuses_attention_but_not_skip_layer_norm(tmp_path):
    from edge.classifier.export import fuse_for_cpu
    from edge.quantize import quantize_int8
    from edge.runtime.classifier import encoder_session

    model, tokenizer = tiny_model()
    raw = export_onnx(model, tokenizer, tmp_path / "m.onnx")
    fused = fuse_for_cpu(raw, tmp_path / "fused.onnx", model.config.num_attention_heads, model.config.hidden_size)
    ops = {node.op_type for node in onnx.load(str(fused)).graph.node}
    assert {"Attention", "LayerNormalization", "Add"} <= ops and "SkipLayerNormalization" not in ops
    assert check_parity(model, tokenizer, fused, TEXTS, max_length=24).max_abs_diff < 1e-4
    int8 = quantize_int8(fused, tmp_path / "q.onnx")
    assert "QAttention" in {node.op_type for node in onnx.load(str(int8)).graph.node}
    for path in (fused, int8):    # the device's session does not fuse Add + LayerNormalization back
        encoder_session(path, optimized_model_file=str(tmp_path / "loaded.onnx"))
        loaded = {node.op_type for node in onnx.load(str(tmp_path / "loaded.onnx")).graph.node}
        assert "LayerNormalization" in loaded and "SkipLayerNormalization" not in loaded


def test_three_class_model_on_pairs_keeps_parity(tmp_path):
    model, tokenizer = tiny_model(num_labels=3)
    path = export_onnx(model, tokenizer, tmp_path / "m.onnx")
    assert check_parity(model, tokenizer, path, PAIRS, max_length=24, batch_size=2).max_abs_diff < 1e-4
    assert onnx_logits(onnx_session(path), tokenizer, PAIRS, max_length=24).shape == (3, 3)
