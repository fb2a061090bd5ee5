"""Options of the predict-the-llm solution, each settable with `--set key=value`.

    cfg = ctx.config(PredictConfig)          # defaults below, then --set (unknown keys refused)
    python -m cli submit --comp predict-the-llm --set members=tfidf_linear,style_lgbm,encoder_finetuned
"""
from __future__ import annotations

from dataclasses import dataclass

from common.errors import UserError
from common.options import model_option, name_list
from common.prob_ensemble import POOLS

CHEAP_MEMBERS = ("tfidf_linear", "style_lgbm")
FINETUNED_MEMBERS = ("encoder_finetuned", "lm_lora_classifier")
MEMBERS = CHEAP_MEMBERS + FINETUNED_MEMBERS
ENSEMBLES = ("ensemble", "ensemble_assigned", "ensemble_balanced")   # ensemble_step.ensemble_variants


@dataclass(frozen=True)
class PredictConfig:
    """Options (`--set NAME=VALUE`), defaults in brackets:

    members: comma list of members to cross-validate and ensemble; the fine-tuned ones are
        opt-in (minutes to hours on 2 CPU cores) [tfidf_linear,style_lgbm]
    tfidf_c: inverse L2 strength of the TF-IDF logistic regression [10.0]
    tfidf_question: also a word TF-IDF block of "question || response" [false]
    lm: causal LM whose per-token statistics of each response (given its question, through the
        LM's chat template) are style_lgbm features; '' = none [smollm2]
    lm_response_tokens: response tokens the LM scores [128]
    lgbm_rounds / lgbm_lr / lgbm_leaves: style_lgbm's boosting [300 / 0.03 / 15]
    encoder: encoder fine-tuned by encoder_finetuned [minilm]
    encoder_epochs / encoder_lr / encoder_max_length [3 / 3e-4 / 128]
    lora_model: causal LM under lm_lora_classifier's LoRA adapters [smollm2]
    lora_layers: its first N decoder layers are kept (0 = all 30 of SmolLM2: ~4x slower) [8]
    lora_r / lora_alpha / lora_epochs / lora_lr / lora_max_length [4 / 16 / 2 / 1e-3 / 128]
    finetune_folds: group folds of the fine-tuned members (0 = the main folds); their held-out
        predictions are still out of fold for every row [0]
    pool: how the ensemble combines members: geometric (log-linear) or arithmetic mean [geometric]
    clip: floor on every ensemble probability [0.001]
    assign: try ensemble_assigned and ensemble_balanced when each question was answered once
        by each target [true]
    fast_train: train questions a `--fast` run keeps with all their responses, the same number
        from each fold, drawn with the run's seed (0 = all): SmolLM2's statistics of every kept
        response cost about a quarter of a second each on 2 free cores from an empty cache [60]
    submit: the variant whose test probabilities are written ('' = the best CV), e.g. to score
        each variant on a sample's hidden labels [''], one of the members or ENSEMBLES
    """

    members: str = ",".join(CHEAP_MEMBERS)
    tfidf_c: float = 10.0
    tfidf_question: bool = False
    lm: str = model_option("causal_lm", "smollm2", blank_is_none=True)
    lm_response_tokens: int = 128
    lgbm_rounds: int = 300
    lgbm_lr: float = 0.03
    lgbm_leaves: int = 15
    encoder: str = model_option("encoder", "minilm")
    encoder_epochs: int = 3
    encoder_lr: float = 3e-4
    encoder_max_length: int = 128
    lora_model: str = model_option("causal_lm", "smollm2")
    lora_layers: int = 8
    lora_r: int = 4
    lora_alpha: int = 16
    lora_epochs: int = 2
    lora_lr: float = 1e-3
    lora_max_length: int = 128
    finetune_folds: int = 0
    pool: str = "geometric"
    clip: float = 1e-3
    assign: bool = True
    fast_train: int = 60
    submit: str = ""

    def member_names(self) -> list[str]:
        return name_list(self.members, MEMBERS, "members", allow_empty=False)

    def __post_init__(self):
        self.validate()      # a bad value is refused when the options are read, before the data is

    def validate(self) -> "PredictConfig":
        self.member_names()
        if self.pool not in POOLS:
            raise UserError(f"pool must be one of {', '.join(POOLS)}, got {self.pool!r}")
        if not 0 <= self.clip < 1 / 7:
            raise UserError(f"clip must lie in [0, 1/7), got {self.clip}")
        for name in ("lgbm_rounds", "lgbm_leaves", "encoder_epochs", "encoder_max_length", "lora_r", "lora_alpha",
                     "lora_epochs", "lora_max_length", "lm_response_tokens"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("tfidf_c", "lgbm_lr", "encoder_lr", "lora_lr"):
            if not getattr(self, name) > 0:
                raise UserError(f"{name} must be above 0, got {getattr(self, name)}")
        if self.fast_train < 0:
            raise UserError(f"fast_train must be 0 (all) or more, got {self.fast_train}")
        if self.finetune_folds == 1 or self.finetune_folds < 0:
            raise UserError(f"finetune_folds must be 0 (the main folds) or at least 2, got {self.finetune_folds}")
        variants = [*self.member_names(), *(ENSEMBLES if self.assign else ENSEMBLES[:1])]
        if self.submit and self.submit not in variants:
            raise UserError(f"submit: no variant {self.submit!r} in this run; variants: {', '.join(variants)}")
        return self
