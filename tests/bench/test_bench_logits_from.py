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
