"""`kllm bench shape_speed`: bad flags are one line (the measurement runs on the tiny Llama in
tests/edge/generator/test_grid_model.py)."""
import pytest

from bench.shape_speed import main
from common.errors import UserError


@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--variants", "int3"], "--variants names only"),
    (["--threads", "1,x"], "--threads take comma-separated integers"),
    (["--threads", "0"], "must be at least 1"),
    (["--rounds", "0"], "must be at least 1"),
    (["--seed", "-1"], "out of range"),
    (["--model", "/no/such/folder"], "unknown|no config.json|not found|/no/such/folder"),
])
def test_bad_flags_and_models_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)
