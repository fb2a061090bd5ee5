"""The token-statistics model (edge/lm_features/export.py) on a tiny random Llama: the ONNX
export's statistics against PyTorch and against a reference computed from the LM's full logits,
its stats_from input (the positions it skips, a default of 0 for whoever does not feed it), and
the input surviving the pipeline's int4-q41 quantizer."""
import numpy as np
import pytest

IDS = [1, 520, 2178, 314, 260, 5290, 28, 253, 1142, 7133, 30, 2, 17]


@pytest.fixture(scope="module")
def stats_model(tiny_llm, tmp_path_factory):
    from edge.lm_features.export import TokenStatsModule, export_token_stats, load_lm_for_export

    lm, _ = load_lm_for_export(tiny_llm)
    module = TokenStatsModule(lm)
    return module, export_token_stats(module, tmp_path_factory.mktemp("stats") / "stats.onnx")


def reference_stats(lm, ids: list[int]) -> np.ndarray:
    """(len(ids) - 1, 3) from the LM's full logits in float64: logprob, entropy, rank."""
    import torch

    with torch.inference_mode():
        logits = lm(input_ids=torch.tensor([ids])).logits[0, :-1].double()
    logp = torch.log_softmax(logits, -1)
    target = torch.tensor(ids[1:])[:, None]
    rank = (logits > logits.gather(-1, target)).sum(-1)
    return torch.stack([logp.gather(-1, target)[:, 0], -(logp.exp() * logp).sum(-1), rank.double()], 1).numpy()


def session(path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(sess, ids, start=None):
    x = np.asarray([ids], dtype=np.int64)
    feeds = {"input_ids": x, "attention_mask": np.ones_like(x)}
    if start is not None:
        feeds["stats_from"] = np.asarray([start], dtype=np.int64)
    return sess.run(["stats"], feeds)[0][0]


def test_torch_module_matches_the_full_logits_and_skips_the_first_positions(stats_model):
    from edge.lm_features.export import torch_stats_fn

    module, _ = stats_model
    stats = torch_stats_fn(module)
    full = reference_stats(module.lm, IDS)
    np.testing.assert_allclose(stats(IDS), full, atol=1e-4)
    np.testing.assert_array_equal(stats(IDS)[:, 2], full[:, 2])          # the rank is an exact count
    np.testing.assert_allclose(stats(IDS, 5), full[5:], atol=1e-4)
    assert stats(IDS, len(IDS) - 2).shape == (1, 3)


def test_onnx_stats_from_is_an_input_with_a_default(stats_model):
    module, path = stats_model
    sess = session(path)
    assert "stats_from" in {i.name for i in sess.get_overridable_initializers()}
    full = reference_stats(module.lm, IDS)
    np.testing.assert_allclose(run(sess, IDS), full, atol=1e-4)          # not fed: every position
    for start in (0, 4, len(IDS) - 2):
        np.testing.assert_allclose(run(sess, IDS, start), full[start:], atol=1e-4)
    longer = IDS + [99, 100, 101]                                         # dynamic sequence axis
    np.testing.assert_allclose(run(sess, longer, 7), reference_stats(module.lm, longer)[7:], atol=1e-4)


def test_parity_report_and_the_runtime_feed_stats_from(stats_model):
    from edge.lm_features.export import check_stats_parity
    from edge.runtime.lm_features import LmFeatureClassifier

    module, path = stats_model
    report = check_stats_parity(module, path, [IDS, IDS[:6]])
    assert report.max_abs_diff < 1e-4 and report.texts == 2
    stats_fn = LmFeatureClassifier._onnx_stats_fn(path, threads=1)
    full = reference_stats(module.lm, IDS)
    np.testing.assert_allclose(stats_fn(IDS, 6), full[6:], atol=1e-4)
    np.testing.assert_allclose(stats_fn(IDS), full, atol=1e-4)


def test_stats_from_survives_the_int4_q41_quantizer(stats_model, tmp_path):
    from edge.quantize import quantize_q41

    module, path = stats_model
    q41 = quantize_q41(path, tmp_path / "q41.onnx")
    sess = session(q41)
    assert "stats_from" in {i.name for i in sess.get_overridable_initializers()}
    full, tail = run(sess, IDS), run(sess, IDS, 5)
    np.testing.assert_allclose(tail, full[5:], atol=1e-5)                 # the same model, rows skipped
