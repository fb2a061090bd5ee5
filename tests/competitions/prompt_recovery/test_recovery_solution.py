"""The prompt-recovery solution end to end on a tiny slice of the sample: both splits scored for
every variant (cv over rows, holdout over instructions), the metric's encoder recorded, the
submitted variant chosen by its held-out-instruction score, and the same prompts twice."""
import json

import numpy as np
import polars as pl
import pytest

from cli.main import main
from common.data import load_dataset
from common.registry import get_competition
from common.solution import RunContext
from competitions.prompt_recovery.splits import instruction_folds
from recovery_slice import write_slice

COMP = get_competition("prompt-recovery")
FAST = ["--set", "beam_steps=2", "--set", "beam_pool=8", "--set", "vocab_tokens=50"]


def test_instruction_folds_never_split_an_instruction():
    train = load_dataset(COMP).tables["train"]
    folds = instruction_folds(train["rewrite_prompt"].to_list(), 5, 42)
    per_prompt = pl.DataFrame({"p": train["rewrite_prompt"], "fold": folds}).group_by("p").agg(pl.col("fold").n_unique())
    assert (per_prompt["fold"] == 1).all() and len(np.unique(folds)) == 5
    assert RunContext(COMP, load_dataset(COMP)).n_folds == 5


def _submit(tmp_path, folder, *extra):
    out = tmp_path / "sub.csv"
    assert main(["submit", "--comp", "prompt-recovery", "--data", str(folder), "--folds", "2", *FAST, *extra,
                 "--out", str(out)]) == 0
    return pl.read_csv(out)


def test_submit_on_a_tiny_slice_scores_both_splits_and_records_the_encoder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    folder = write_slice(tmp_path / "data", train_rows=30, test_rows=4)
    sub = _submit(tmp_path, folder)
    assert sub.columns == ["id", "rewrite_prompt"] and sub.height == 4
    assert (sub["rewrite_prompt"].str.strip_chars().str.len_chars() > 0).all()
    out = capsys.readouterr().out
    assert "mean prompt (all 30 train prompts" in out and "<- submitted" in out
    runs = [json.loads(line) for line in (tmp_path / "results" / "runs.jsonl").read_text().splitlines() if line]
    variants = ("constant_baseline", "mean_prompt", "nearest_prompt", "combined")
    assert sorted(r["variant"] for r in runs) == sorted([*variants, *(f"heldout_instruction/{v}" for v in variants)])
    assert {r["kind"] for r in runs if r["variant"].startswith("heldout_instruction/")} == {"holdout"}
    assert {r["kind"] for r in runs if not r["variant"].startswith("heldout_instruction/")} == {"cv"}
    assert {r["encoder"] for r in runs} == {"minilm"}
    submitted = [r for r in runs if r["extra"]["submitted"]]
    assert len(submitted) == 1 and submitted[0]["kind"] == "holdout"
    held = {r["variant"]: r["cv"] for r in runs if r["kind"] == "holdout"}
    assert submitted[0]["cv"] == max(held.values())
    info = submitted[0]["extra"]
    assert info["mean_prompt"] and set(info["mean_prompt_folds"]) == {"rows", "instructions"}
    again = _submit(tmp_path, folder)                       # mean prompts from the cache: same prompts
    assert again["rewrite_prompt"].to_list() == sub["rewrite_prompt"].to_list()
    assert "(2 from cache)" in capsys.readouterr().out


@pytest.mark.slow
def test_submit_with_the_lm_members_on_a_tiny_slice(tmp_path):
    """lm_fewshot and lm_lora on 30 rows (~6 min on 2 busy cores the first time, then cached)."""
    folder = write_slice(tmp_path / "data", train_rows=30, test_rows=4)
    sub = _submit(tmp_path, folder, "--set", "members=nearest_prompt,lm_fewshot,lm_lora")
    assert sub.height == 4 and (sub["rewrite_prompt"].str.strip_chars().str.len_chars() > 0).all()
    runs = (tmp_path / "results" / "runs.jsonl").read_text()
    assert "heldout_instruction/lm_lora" in runs and "heldout_instruction/lm_fewshot" in runs
