"""Fine-tune a causal LM to write a completion after a prompt (seq2seq-style), optionally with
LoRA, with the seeded minimal loop and the one TrainConfig vocabulary.

    from common.training.causal_lm import CausalLMConfig, train_causal_lm
    cfg = CausalLMConfig(model="smollm2", lora=True, lora_r=8, epochs=2, learning_rate=1e-3)
    model, tokenizer = train_causal_lm(["Text: ...\\nRewrite: ..."], ["Rewrite this text as a poem."], cfg)
    from common.llm.generation import GenerationConfig, generate_batch
    generate_batch(model, tokenizer, ["Text: ...\\nRewrite: ..."], GenerationConfig(chat_template=cfg.chat_template))

Each example is the prompt rendered as generation renders it (`common.llm.generation.render_prompt`:
the chat template when cfg.chat_template and the tokenizer has one), then the completion and
the end-of-sequence token; the loss is the next-token cross-entropy on the completion tokens
only. An example longer than max_length loses tokens from the start of its prompt. With
cfg.lora the adapters are merged after training, so the result is a plain transformers model in
eval mode whose tokenizer pads on the left, ready for `generate_batch`.
"""
from __future__ import annotations

from dataclasses import dataclass

from common.errors import UserError
from common.training.config import TrainConfig, training_session
from common.training.lora import with_lora
from common.training.loop import adamw_steps

IGNORE = -100   # label of a token the loss skips (prompt and padding)


@dataclass(frozen=True)
class CausalLMConfig(TrainConfig):
    """TrainConfig (model, epochs, batch_size, learning_rate, max_length, seed, threads, lora...)
    with a causal LM as model (default "smollm2"), plus chat_template (bool, True): render each
    prompt through the tokenizer's chat template, system_prompt (str or None, None), and
    num_layers (int or None, None): keep only the first N decoder layers (faster, weaker)."""

    model: str = "smollm2"
    chat_template: bool = True
    system_prompt: str | None = None
    num_layers: int | None = None


def load_causal_lm_for_training(cfg: CausalLMConfig):
    """(model in float32, tokenizer with a pad token) for cfg.model: a registered LM, a folder or hub id."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from common.training.text_classifier import model_folder, truncate_layers

    folder = model_folder(cfg.model)
    with training_session(cfg):
        model = AutoModelForCausalLM.from_pretrained(folder, dtype="float32")
    if cfg.num_layers is not None:
        truncate_layers(model, cfg.num_layers)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def completion_batch(tokenizer, prompts: list[str], completions: list[str], cfg: CausalLMConfig) -> dict:
    """input_ids, attention_mask and labels (IGNORE outside the completions), right-padded tensors."""
    import torch

    from common.llm.generation import GenerationConfig, render_prompt, uses_chat_template

    if tokenizer.eos_token_id is None:
        raise UserError(f"{cfg.model}: its tokenizer has no end-of-sequence token to end a completion with")
    gen = GenerationConfig(chat_template=cfg.chat_template, system_prompt=cfg.system_prompt)
    special = not uses_chat_template(tokenizer, gen)
    rows = []
    for prompt, completion in zip(prompts, completions):
        head = tokenizer(render_prompt(tokenizer, prompt, gen), add_special_tokens=special)["input_ids"]
        tail = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        head = head[max(0, len(head) + len(tail) - cfg.max_length):]
        rows.append((head + tail, [IGNORE] * len(head) + tail))
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([r + [pad] * (width - len(r)) for r, _ in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r, _ in rows])
    labels = torch.tensor([lab + [IGNORE] * (width - len(lab)) for _, lab in rows])
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


class CausalLMTrainer:
    """A minimal AdamW loop over (prompt, completion) pairs; the model's own shifted
    cross-entropy over the labels is the loss. Subclass and override `loss` to change it."""

    def __init__(self, cfg: CausalLMConfig):
        self.cfg = cfg

    def loss(self, model, batch):
        return model(**batch).loss

    def train(self, model, tokenizer, prompts: list[str], completions: list[str]):
        cfg = self.cfg
        if len(prompts) != len(completions) or not prompts:
            raise UserError(f"need one completion per prompt (got {len(prompts)} prompts, {len(completions)} completions)")
        if any(not str(c).strip() for c in completions):
            raise UserError("a completion to train on is empty")
        with training_session(cfg):
            if cfg.lora:
                model = with_lora(model, cfg, task_type="CAUSAL_LM")
            adamw_steps(model, cfg, len(prompts), lambda idx: self.loss(model, completion_batch(
                tokenizer, [prompts[i] for i in idx], [completions[i] for i in idx], cfg)))
        if cfg.lora:
            model = model.merge_and_unload()
        return model.eval()


def train_causal_lm(prompts: list[str], completions: list[str], cfg: CausalLMConfig | None = None,
                    trainer: CausalLMTrainer | None = None, model=None):
    """Fine-tune and return (model in eval mode, tokenizer padding on the left, for generation).
    `model` may be a (model, tokenizer) pair to start from; else cfg.model is loaded."""
    cfg = cfg or (trainer.cfg if trainer else CausalLMConfig())
    model, tokenizer = model if model is not None else load_causal_lm_for_training(cfg)
    tokenizer.padding_side = "right"
    model = (trainer or CausalLMTrainer(cfg)).train(model, tokenizer, list(prompts), list(completions))
    tokenizer.padding_side = "left"
    return model, tokenizer
