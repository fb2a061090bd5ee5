"""What `make edge COMP=prompt-recovery` ports: the submitted variant, as a plan the device runs.

    ps = spec(dataset, seed=42, fast=False, options={})    # a common.port_set.PortSet

The solution (solution.solve, its `--set` options from `options`) submits the variant with the
best held-out-instruction score. The ported plan is that variant as a mean prompt and a
`combined` rule (edge/runtime/prompts.py): `mean_prompt` is the all-train mean prompt with no
rule, `combined` the mean prompt with the rule chosen for test, `constant_baseline` the constant
with no rule. A variant that writes a member's own guess, or a rule that uses one, would need
that member on the device (SmolLM2 for the LM members: the int4 generator of edge/generator),
which is not built while the host's best needs none: such a plan is refused with one line.

The comparison rows are the held-out-instruction folds' rows (train): the host's outputs there
are its out-of-fold predictions, and the device writes each fold's rows with that fold's plan
(its mean prompt and rule, found on the other folds only). Both are scored on the host with the
metric's encoder, as the mean over folds of the sharpened cosine (the solution's
`heldout_instruction/<variant>` score). The device must also write the submitted test prompts
exactly.
"""
from __future__ import annotations

import numpy as np

from common.cv import score_folds
from common.data import Dataset
from common.errors import UserError
from common.port_set import PortSet
from common.solution import RunContext
from competitions.prompt_recovery import COMPETITION
from competitions.prompt_recovery.combined import Rule
from competitions.prompt_recovery.solution import HELDOUT, METRIC, Solved, solve

SPLIT = "instructions"   # the held-out-instruction folds


def variant_plan(variant: str, mean_text: str, rule: Rule, constant: str) -> dict:
    """The device plan of one variant, given a mean prompt and a combined rule."""
    if variant == "combined" and rule.member is not None:
        raise UserError(f"the combined rule '{rule.describe()}' uses member {rule.member}'s guess; porting it "
                        "needs that member on the device (the int4 SmolLM2 generator for an LM member), not built")
    if variant not in ("constant_baseline", "mean_prompt", "combined"):
        raise UserError(f"the submitted variant {variant} writes a member's own guess; porting it needs that "
                        "member on the device (the int4 SmolLM2 generator for an LM member), not built")
    use = rule if variant == "combined" else Rule(None)
    return {"variant": variant, "mean_prompt": constant if variant == "constant_baseline" else mean_text,
            "rule": {"member": use.member, "mean_first": use.mean_first, "floor": use.floor},
            "rule_text": use.describe()}


def port_set(s: Solved, data_source: str = "") -> PortSet:
    split, folds = s.splits[SPLIT], np.asarray(s.folds[SPLIT])
    fold_plans = [(variant_plan(s.best, split.found[int(k)].text, split.rules[int(k)], s.cfg.constant),
                   np.flatnonzero(folds == k).tolist()) for k in np.unique(folds)]
    plan = variant_plan(s.best, s.full.text, s.rule, s.cfg.constant)

    def score(outputs: list[str]) -> float:
        return score_folds(METRIC, s.rw.prompts, list(outputs), folds, score_fn=s.enc.metric).mean

    teacher = (f"{s.best}: {plan['rule_text']}, mean prompt searched on all {s.rw.n_train} train prompts "
               f"(submitted: {'--set submit' if s.cfg.submit else 'best held-out-instruction score'})")
    info = {"submitted": s.best, "metric_encoder": s.cfg.metric_encoder, "mean_prompt": s.full.text,
            "combined_test_rule": s.rule.describe(), "heldout_folds": len(fold_plans),
            "heldout_cv": round(s.cv[HELDOUT + s.best].mean, 4),
            "fold_rules": [p["rule_text"] for p, _ in fold_plans], "data_source": data_source}
    return PortSet(kind="prompt_writer", plan=plan, metric=METRIC, teacher=teacher,
                   input_columns=("original_text", "rewritten_text"), output_column="rewrite_prompt",
                   inputs=list(zip(s.rw.test_o, s.rw.test_r)), outputs=s.test[s.best],
                   holdout_inputs=list(zip(s.rw.train_o, s.rw.train_r)), holdout_outputs=split.oof[s.best],
                   holdout_plans=fold_plans, score=score, info=info)


def spec(data: Dataset, seed: int = 42, fast: bool = False, options: dict | None = None) -> PortSet:
    return port_set(solve(RunContext(COMPETITION, data, seed=seed, fast=fast, options=dict(options or {}))),
                    data.source)
