"""`kllm bench runtime_ab`: its flags and the revision it reads (the measurement itself runs on the
tiny Llama in tests/edge/runtime/test_generate.py)."""
import pytest

from bench.runtime_ab import RUNTIME, load_runtime, main, runtime_at
from common.errors import UserError


@pytest.mark.parametrize("args, fragment", [
    (["--against", "HEAD", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "the following arguments are required: --against"),
    (["--against", "HEAD", "--variants", "int3"], "--variants names only"),
    (["--against", "HEAD", "--threads", "a"], "--threads take comma-separated integers"),
    (["--against", "HEAD", "--rounds", "0"], "must be at least 1"),
    (["--against", "no-such-revision-0000"], "--against no-such-revision-0000: no such revision"),
])
def test_bad_flags_and_revisions_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)


def test_the_base_is_the_runtime_as_committed(tmp_path):
    base = load_runtime(runtime_at("HEAD", tmp_path), "runtime_head")
    assert base.__file__ == str(tmp_path / "base-causal_lm.py")          # named after the file it was taken from
    assert hasattr(base, "CausalLM") and RUNTIME.endswith("causal_lm.py")
