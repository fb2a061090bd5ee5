"""The shortlisted LM head: the int4 head's top k logits computed again exactly on the Q8_0 grid."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge.generator.grid_model import on_q80_grid
from edge.generator.logits_from import LOGITS_FROM, add_logits_from
from edge.generator.measure import weight_bytes_per_token
from edge.generator.shortlist import add_shortlist

VOCAB, WIDTH = 300, 64


def _head(seed: int = 0, noise: float = 0.05):
    """(exact Q8_0 head (V, K), the noisy head a cheaper export would use, hidden states (1, 5, K))."""
    rng = np.random.default_rng(seed)
    exact = on_q80_grid(rng.normal(size=(VOCAB, WIDTH)).astype(np.float32))
    noisy = (exact + noise * rng.normal(size=exact.shape)).astype(np.float32)
    return exact, noisy, rng.normal(size=(1, 5, WIDTH)).astype(np.float32)


def _model(noisy: np.ndarray):
    """hidden (B, S, K) -> a final norm stand-in (Identity) -> MatMul with the noisy head -> logits."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["hidden"], ["normed"], name="/model/norm"),
         helper.make_node("MatMul", ["normed", "lm_head.weight"], ["logits"], name="/lm_head/MatMul")],
        "head", [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "sequence", WIDTH])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", VOCAB])],
        [numpy_helper.from_array(noisy.T.copy(), "lm_head.weight")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


def _run(model, hidden: np.ndarray, **feeds) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"hidden": hidden, **feeds})[0]


@pytest.mark.parametrize("k", [8, 40])
def test_the_top_k_of_the_cheap_head_get_the_exact_logits_and_the_rest_keep_theirs(k):
    exact, noisy, hidden = _head()
    model = _model(noisy)
    done = add_shortlist(model, exact, k)
    onnx.checker.check_model(model)
    got, cheap, right = _run(model, hidden)[0], hidden[0] @ noisy.T, hidden[0] @ exact.T
    top = np.argsort(-cheap, axis=-1)[:, :k]
    rescored = np.zeros_like(cheap, dtype=bool)
    np.put_along_axis(rescored, top, True, -1)
    assert done["k"] == k and done["off_grid"] < 1e-4
    assert np.allclose(got[rescored], right[rescored], atol=1e-4)
    assert np.array_equal(got[~rescored], cheap[~rescored])
    assert np.array_equal(got.argmax(-1), right.argmax(-1)) and not np.array_equal(cheap, got)


def test_a_shortlist_of_the_whole_vocabulary_is_the_exact_head():
    exact, noisy, hidden = _head(seed=1, noise=1.0)
    model = _model(noisy)
    add_shortlist(model, exact, VOCAB)
    assert np.allclose(_run(model, hidden)[0], hidden[0] @ exact.T, atol=1e-4)


def test_a_head_off_its_q8_0_grid_or_a_k_out_of_range_is_refused():
    exact, noisy, _ = _head()
    with pytest.raises(ValueError, match="not on a Q8_0 grid"):
        add_shortlist(_model(noisy), noisy, 8)
    for k in (0, VOCAB + 1):
        with pytest.raises(ValueError, match="shortlist k"):
            add_shortlist(_model(noisy), exact, k)


def test_logits_from_slices_the_shortlists_hidden_states_too(tmp_path):
    exact, noisy, hidden = _head(seed=2)
    model = _model(noisy)
    add_shortlist(model, exact, 16)
    onnx.save(model, str(tmp_path / "full.onnx"))
    add_logits_from(tmp_path / "full.onnx", tmp_path / "sliced.onnx")
    sliced = onnx.load(str(tmp_path / "sliced.onnx"))
    full = _run(model, hidden)
    assert np.array_equal(_run(sliced, hidden), full)                 # not fed: every position
    last = _run(sliced, hidden, **{LOGITS_FROM: np.array([4], np.int64)})
    assert last.shape == (1, 1, VOCAB) and np.allclose(last, full[:, 4:], atol=1e-6)


def test_the_exact_table_counts_as_rows_read_not_as_weights_a_step(tmp_path):
    exact, noisy, _ = _head()
    (tmp_path / "plain").mkdir()
    (tmp_path / "shortlisted").mkdir()
    onnx.save(_model(noisy), str(tmp_path / "plain" / "model.onnx"))
    model = _model(noisy)
    add_shortlist(model, exact, 8)
    onnx.save(model, str(tmp_path / "shortlisted" / "model.onnx"))
    added = weight_bytes_per_token(tmp_path / "shortlisted") - weight_bytes_per_token(tmp_path / "plain")
    assert 0 <= added < 100 < VOCAB * WIDTH         # k and two shapes, not the (V, K) table


def _folders(tmp_path, exact: np.ndarray, noisy: np.ndarray):
    """(an export's folder with the noisy head, an fp32 export's folder with `exact` as its head)."""
    full, fp32 = tmp_path / "full", tmp_path / "fp32"
    for folder, head in ((full, noisy), (fp32, exact)):
        folder.mkdir()
        onnx.save(_model(head), str(folder / "model.onnx"))
        (folder / "genai_config.json").write_text("{}")
    return full, fp32


def test_a_shortlist_variant_is_built_on_the_listed_export_without_it(tmp_path, monkeypatch):
    import json

    import edge.generator.export as export
    from edge.generator.variants import VARIANTS

    exact, noisy, hidden = _head()
    full, fp32 = _folders(tmp_path, exact, noisy)
    asked = []
    monkeypatch.setattr(export, "build_variant", lambda v, *a, **k: asked.append(v.name) or (fp32 if v.name == "fp32" else full))
    target = tmp_path / "target"
    export._shortlisted(VARIANTS["int4-q41-fold-head4-top64"], "smollm2", target, None, log=lambda *_: None)
    assert asked == ["int4-q41-fold-head4", "fp32"]                     # the listed variant, not a new export
    assert (target / "genai_config.json").exists() and (target / "model.onnx.data").exists()
    assert json.loads((target / "VARIANT.json").read_text())["shortlist"]["k"] == 64
    got = _run(onnx.load(str(target / "model.onnx")), hidden)[0]
    assert np.array_equal(got.argmax(-1), (hidden[0] @ exact.T).argmax(-1))


def test_a_head_off_its_grid_refuses_the_variant_in_one_line_and_leaves_no_folder(tmp_path, monkeypatch):
    import edge.generator.export as export
    from common.errors import UserError
    from edge.generator.variants import VARIANTS

    exact, noisy, _ = _head()
    full, fp32 = _folders(tmp_path, noisy, noisy)                     # the "fp32" head is off the Q8_0 grid
    monkeypatch.setattr(export, "build_variant", lambda v, *a, **k: fp32 if v.name == "fp32" else full)
    with pytest.raises(UserError, match="int4-q41-fold-head4-top64: the LM head is not on a Q8_0 grid"):
        export._shortlisted(VARIANTS["int4-q41-fold-head4-top64"], "smollm2", tmp_path / "target", None,
                            log=lambda *_: None)
    assert not (tmp_path / "target").exists() and not list(tmp_path.glob("target*"))


@pytest.mark.slow
def test_the_builders_fold_with_a_shortlisted_int4_head_takes_the_int8_heads_logits_for_its_top_k(
        tiny_llm, tmp_path, monkeypatch):
    """The real path (about 40 s): a tiny Llama on the zoo's grids through the model builder, the fold
    with its int4 head, and the same with the shortlist; against the fold with the exact Q8_0 head."""
    from edge.generator.export import build_variant
    from edge.generator.grid_model import grid_model
    from edge.generator.variants import VARIANTS
    from edge.runtime.causal_lm import CausalLM

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    folder = str(grid_model(tiny_llm, seed=5, log=lambda *_: None))
    logits = {}
    for name in ("int4-q41-fold", "int4-q41-fold-head4", "int4-q41-fold-head4-top64"):
        lm = CausalLM(build_variant(VARIANTS[name], folder, log=lambda *_: None), threads=1)
        logits[name] = lm.forward(lm.encode("The history of the Roman Empire began when the city"))
    int8, int4, shortlisted = logits.values()
    changed = shortlisted != int4
    assert 0 < changed.sum(-1).min() and changed.sum(-1).max() <= 64
    scale = np.abs(int8).max()
    assert np.abs(shortlisted[changed] - int8[changed]).max() < 0.02 * scale      # the int8 head's, up to its
    assert np.abs(int4[changed] - int8[changed]).max() > 0.02 * scale / 4         # int8 activations
    assert np.array_equal(shortlisted.argmax(-1), int8.argmax(-1))


def _embedding_model(table: np.ndarray, noisy: np.ndarray):
    """input_ids -> Gather(table) -> MatMul with the noisy head -> logits, the embedding also an output."""
    graph = helper.make_graph(
        [helper.make_node("Gather", ["embed.weight", "input_ids"], ["embedded"], name="/model/embed_tokens/Gather"),
         helper.make_node("Identity", ["embedded"], ["embedding"], name="/model/out"),
         helper.make_node("MatMul", ["embedded", "lm_head.weight"], ["logits"], name="/lm_head/MatMul")],
        "lm", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", VOCAB]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", "sequence", WIDTH])],
        [numpy_helper.from_array(table, "embed.weight"), numpy_helper.from_array(noisy.T.copy(), "lm_head.weight")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


def test_an_fp32_embedding_equal_to_the_head_reads_the_q8_0_rows_instead():
    exact, noisy, _ = _head(seed=3)
    ids = np.array([[5, 0, VOCAB - 1, 17]], np.int64)
    model = _embedding_model(exact, noisy)
    done = add_shortlist(model, exact, 8)
    onnx.checker.check_model(model)
    assert done["embedding_from_q8_0"] == "/model/embed_tokens/Gather"
    assert "embed.weight" not in {i.name for i in model.graph.initializer}         # one table, not two
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    logits, embedding = session.run(["logits", "embedding"], {"input_ids": ids})
    assert np.allclose(embedding[0], exact[ids[0]], rtol=1e-6, atol=0)   # the same values (float32 d * q)
    assert np.array_equal(logits[0].argmax(-1), (exact[ids[0]] @ exact.T).argmax(-1))


def test_an_embedding_unlike_the_head_is_left_as_it_is():
    exact, noisy, _ = _head(seed=4)
    model = _embedding_model(noisy, noisy)                          # the table is not the head's
    assert add_shortlist(model, exact, 8)["embedding_from_q8_0"] is None
    assert "embed.weight" in {i.name for i in model.graph.initializer}
    assert add_shortlist(_embedding_model(exact, noisy), exact, 8, embedding=False)["embedding_from_q8_0"] is None
