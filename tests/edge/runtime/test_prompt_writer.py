"""The device's prompt writer (edge/runtime/prompts.py): the plan's mean prompt for every
(original, rewritten) pair, Kaggle's id,rewrite_prompt CSV out, and a plan whose rule needs a
member's guess refused."""
from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

from common.errors import UserError
from competitions.prompt_recovery.combined import Rule
from competitions.prompt_recovery.edge import variant_plan
from edge.runtime.prompts import PromptWriter

MEAN = "Rewrite this text as an manner described says"


def test_the_mean_prompt_alone_is_written_for_every_pair():
    plan = variant_plan("combined", MEAN, Rule(None), "Improve this text.")
    assert plan["rule"] == {"member": None, "mean_first": False, "floor": None}
    assert plan["rule_text"] == "mean prompt alone"
    rows = PromptWriter(plan).write([("An original.", "A rewrite."), ("Another.", "Rewritten, again.")])
    assert [r["rewrite_prompt"] for r in rows] == [MEAN, MEAN]
    assert variant_plan("constant_baseline", MEAN, Rule(None), "Improve this text.")["mean_prompt"] == "Improve this text."


def test_a_rule_or_variant_that_needs_a_member_is_refused():
    with pytest.raises(UserError, match="uses member nearest_prompt's guess"):
        variant_plan("combined", MEAN, Rule("nearest_prompt", floor=0.5), "x")
    with pytest.raises(UserError, match="lm_fewshot writes a member's own guess"):
        variant_plan("lm_fewshot", MEAN, Rule(None), "x")
    with pytest.raises(ValueError, match="uses member"):
        PromptWriter({"mean_prompt": MEAN, "rule": {"member": "lm_lora", "mean_first": True, "floor": None}})


def test_the_cli_reads_kaggle_test_csv_and_prints_the_submission(prompt_bundle):
    rows = 'id,original_text,rewritten_text\n7,"A cat sat.","The feline rested, gracefully."\n9,Dogs.,"Canines, ""loyal""."\n'
    done = subprocess.run([sys.executable, "-I", "detect.py", "--format", "csv"], input=rows, cwd=prompt_bundle,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = list(csv.DictReader(io.StringIO(done.stdout)))
    assert out == [{"id": "7", "rewrite_prompt": MEAN}, {"id": "9", "rewrite_prompt": MEAN}]
    done = subprocess.run([sys.executable, "-I", "detect.py"], input="no tab here\n", cwd=prompt_bundle,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "holds no text pair" in done.stderr


@pytest.fixture(scope="module")
def prompt_bundle(tmp_path_factory):
    from common.port_set import PortSet
    from edge.writer.steps import WriterSteps

    plan = variant_plan("mean_prompt", MEAN, Rule(None), "x")
    pairs = [("An original.", "A rewrite."), ("Another.", "Rewritten.")]
    ps = PortSet(kind="prompt_writer", plan=plan, metric="sharpened_cosine", teacher="toy",
                 input_columns=("original_text", "rewritten_text"), output_column="rewrite_prompt",
                 inputs=pairs, outputs=[MEAN, MEAN], holdout_inputs=pairs, holdout_outputs=[MEAN, MEAN],
                 score=lambda outputs: 0.0)
    return WriterSteps(ps).bundle(tmp_path_factory.mktemp("prompts") / "bundle", {}).path
