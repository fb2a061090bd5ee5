"""`kllm bench logits_from`: its flags (the measurement runs on the tiny Llama in
tests/edge/generator/test_logits_from.py)."""
import pytest

from bench.logits_from import main
from common.errors import UserError


@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--variants", "int3"], "--variants names only"),
    (["--prompts", "a,b"], "comma-separated integers"),
    (["--rounds", "0"], "must be at least 1"),
])
def test_bad_flags_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)


def test_the_rewritten_copy_does_not_carry_its_base_exports_size_record(tmp_path, monkeypatch):
    import bench.logits_from as logits_from
    from edge.generator.export import SIZES_FILE

    base = tmp_path / "base"
    base.mkdir()
    for name in ("model.onnx", "genai_config.json", "tokenizer.json", SIZES_FILE):
        (base / name).write_text("{}")
    monkeypatch.setattr("edge.generator.logits_from.add_logits_from",
                        lambda source, target: target.write_text("rewritten"))
    copy = logits_from.with_logits_from(base, tmp_path / "sliced")
    assert (copy / "model.onnx").is_file() and not (copy / SIZES_FILE).exists()
