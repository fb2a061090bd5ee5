"""prompt-recovery's edge spec on a tiny slice: the submitted variant becomes the device plan,
each held-out-instruction fold's rows get that fold's plan, and the device's outputs are the
host's (the submitted test prompts and the out-of-fold prompts); a member's variant is refused."""
import dataclasses

import numpy as np
import pytest

from common.data import load_dataset
from common.errors import UserError
from common.registry import get_competition
from common.solution import RunContext
from competitions.prompt_recovery.edge import port_set
from competitions.prompt_recovery.solution import solve
from edge.writer.steps import WriterSteps
from recovery_slice import write_slice

COMP = get_competition("prompt-recovery")
FAST = {"beam_steps": "2", "beam_pool": "8", "vocab_tokens": "50", "submit": "mean_prompt"}


def test_the_submitted_variant_is_ported_with_each_folds_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    data = load_dataset(COMP, write_slice(tmp_path / "data", train_rows=30, test_rows=4))
    solved = solve(RunContext(COMP, data, seed=1, folds=2, options=FAST))
    ps = port_set(solved, data.source)
    assert solved.best == "mean_prompt" and ps.plan["mean_prompt"] == solved.full.text
    assert ps.kind == "prompt_writer" and ps.plan["variant"] == solved.best
    assert ps.outputs == solved.test[solved.best] and len(ps.inputs) == 4
    folds = solved.folds["instructions"]
    assert sorted(len(rows) for _, rows in ps.holdout_plans) == sorted(np.bincount(folds).tolist())
    for plan, rows in ps.holdout_plans:   # a fold's plan never comes from its own rows' prompts
        k = int(folds[rows[0]])
        assert all(folds[i] == k for i in rows)
        assert plan["mean_prompt"] in (solved.splits["instructions"].found[k].text, solved.cfg.constant)
    steps = WriterSteps(ps)
    bundle = steps.bundle(tmp_path / "bundle", {}).path
    assert steps.device_outputs(bundle) == ps.holdout_outputs
    assert ps.score(ps.holdout_outputs) == solved.cv["heldout_instruction/" + solved.best].mean
    with pytest.raises(UserError, match="nearest_prompt writes a member's own guess"):
        port_set(dataclasses.replace(solved, best="nearest_prompt"))
