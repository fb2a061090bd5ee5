"""Options of the prompt-recovery solution, each settable with `--set key=value`.

    cfg = ctx.config(RecoveryConfig)     # defaults below, then --set (unknown keys and bad values refused)
    python -m cli submit --comp prompt-recovery --set metric_encoder=sentence-transformers/sentence-t5-base
    python -m cli submit --comp prompt-recovery --set members=nearest_prompt,lm_fewshot
"""
from __future__ import annotations

from dataclasses import dataclass

from common.errors import UserError
from common.options import model_option, name_list

MEMBERS = ("nearest_prompt", "lm_fewshot", "lm_lora")
DEFAULT_MEMBERS = ("nearest_prompt",)


@dataclass(frozen=True)
class RecoveryConfig:
    """Options (`--set NAME=VALUE`), defaults in brackets:

    members: comma list of predicting members; the LM ones are opt-in (minutes to an hour on
        2 CPU cores; experiments/fewshot.toml, experiments/lora.toml) [nearest_prompt]
    metric_encoder: the sentence encoder of the metric: every score, the mean-prompt search and
        nearest_prompt's target space use it (Kaggle: sentence-transformers/sentence-t5-base) [minilm]
    encoder: the encoder of the (original, rewritten) texts for nearest_prompt's features and
        lm_fewshot's retrieval [minilm]
    constant: constant_baseline's prompt ["Improve this text."]
    beam_width / beam_steps: the mean-prompt beam search: strings kept per step / words appended [4 / 14]
    beam_pool: candidate words tried at each step, the best single words of the pool [40]
    vocab_tokens: whole-word tokens of the metric encoder's vocabulary added to the training
        prompts' words before the pool is picked [3000]
    max_prompt_tokens: the mean prompt's length cap in metric-encoder tokens; must stay below the
        encoder's limit, and leaves room for a predicted prompt before it in `combined` [48]
    ridge_alpha: nearest_prompt's ridge penalty [3.0]
    lm: causal LM of lm_fewshot and lm_lora [smollm2]
    fewshot_examples: retrieved worked examples in lm_fewshot's prompt [2]
    text_words: words of each original and rewrite an LM sees (the rest is cut) [16]
    max_new_tokens: tokens an LM member generates per prompt [16]
    lora_layers: lm_lora keeps the LM's first N decoder layers (0 = all 30 of SmolLM2: ~4x slower) [8]
    lora_r / lora_alpha / lora_epochs / lora_lr / lora_max_length [8 / 16 / 1 / 1e-3 / 192]
    lora_folds: folds of lm_lora's fine-tunes in each split (0 = the main folds); its held-out
        predictions are still out of fold for every row [2]
    extra_train: a CSV/Parquet of more rewrites (original_text, rewrite_prompt, rewritten_text)
        appended to train ('' = train_extra.csv or .parquet beside the data files when there) ['']
    submit: the variant whose test prompts are written ('' = the best held-out-instruction score),
        e.g. to score each variant on the sample's hidden test labels ['']
    """

    members: str = ",".join(DEFAULT_MEMBERS)
    metric_encoder: str = model_option("encoder", "minilm")
    encoder: str = model_option("encoder", "minilm")
    constant: str = "Improve this text."
    beam_width: int = 4
    beam_steps: int = 14
    beam_pool: int = 40
    vocab_tokens: int = 3000
    max_prompt_tokens: int = 48
    ridge_alpha: float = 3.0
    lm: str = model_option("causal_lm", "smollm2")
    fewshot_examples: int = 2
    text_words: int = 16
    max_new_tokens: int = 16
    lora_layers: int = 8
    lora_r: int = 8
    lora_alpha: int = 16
    lora_epochs: int = 1
    lora_lr: float = 1e-3
    lora_max_length: int = 192
    lora_folds: int = 2
    extra_train: str = ""
    submit: str = ""

    def member_names(self) -> list[str]:
        return name_list(self.members, MEMBERS, "members")

    def __post_init__(self):
        self.validate()      # a bad value is refused when the options are read, before the data is

    def validate(self) -> "RecoveryConfig":
        self.member_names()
        if not self.constant.strip():
            raise UserError("constant: the baseline prompt must not be empty")
        for name in ("beam_width", "beam_steps", "beam_pool", "max_prompt_tokens", "fewshot_examples",
                     "text_words", "max_new_tokens", "lora_r", "lora_epochs", "lora_max_length"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.vocab_tokens < 0 or self.ridge_alpha <= 0 or self.lora_layers < 0:
            raise UserError("vocab_tokens and lora_layers must be >= 0, ridge_alpha > 0")
        variants = ("constant_baseline", "mean_prompt", *self.member_names(), "combined")
        if self.submit and self.submit not in variants:
            raise UserError(f"submit: no variant {self.submit!r} in this run; variants: {', '.join(variants)}")
        if self.lora_alpha < 1 or not self.lora_lr > 0:
            raise UserError(f"lora_alpha must be at least 1 and lora_lr above 0, got {self.lora_alpha} and {self.lora_lr}")
        if self.lora_folds == 1 or self.lora_folds < 0:
            raise UserError(f"lora_folds must be 0 (the main folds) or at least 2, got {self.lora_folds}")
        return self
