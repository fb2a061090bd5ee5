"""`kllm bench kv_cache`: its flags (the measurement itself runs on the tiny Llama in
tests/edge/runtime/test_generate.py)."""
import pytest

from bench.kv_cache import main
from common.errors import UserError


@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--variants", "int3"], "--variants names only"),
    (["--contexts", "a,b"], "comma-separated integers"),
    (["--rounds", "0"], "must be at least 1"),
])
def test_bad_flags_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)
