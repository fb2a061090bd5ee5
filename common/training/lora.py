"""LoRA adapters from a TrainConfig, for any transformers model peft knows.

    model = with_lora(model, cfg, task_type="SEQ_CLS")          # adapters + the classifier head train
    model = with_lora(model, cfg, modules_to_save=("classifier",))   # a task peft has no type for
    plain = model.merge_and_unload()                              # after training: a plain model

cfg.lora_target_modules None leaves the choice to peft's table of defaults per architecture
(query/value for BERT, q_proj/v_proj for Llama, ...).
"""
from __future__ import annotations

from common.errors import UserError


def with_lora(model, cfg, task_type: str | None = None, modules_to_save: tuple[str, ...] | None = None):
    """A peft model whose only trainable weights are the adapters and `modules_to_save` (with
    task_type "SEQ_CLS", peft adds the classification head, `classifier` or `score`, itself)."""
    from peft import LoraConfig, get_peft_model

    targets = list(cfg.lora_target_modules) if cfg.lora_target_modules else None
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=targets, task_type=task_type,
                      modules_to_save=list(modules_to_save) if modules_to_save else None)
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:  # peft's message names the modules it could not find
        raise UserError(f"LoRA on {type(model).__name__}: {exc}; set lora_target_modules") from None
