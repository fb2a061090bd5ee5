"""The shared causal-LM trainer: the loss sees only the completion, long prompts lose their start,
and LoRA training on a tiny Llama lowers the completion loss and returns a plain model."""
import pytest
import torch

from common.errors import UserError
from common.training.causal_lm import IGNORE, CausalLMConfig, completion_batch, train_causal_lm


def _cfg(folder, **kw):
    return CausalLMConfig(model=str(folder), chat_template=False, max_length=32, threads=1, show_progress_bar=False, **kw)


def test_labels_cover_only_the_completion_and_its_end(tiny_llama):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    batch = completion_batch(tokenizer, ["text: a b c", "text: d"], ["make it short", "a poem"], _cfg(tiny_llama))
    ids, labels, mask = batch["input_ids"], batch["labels"], batch["attention_mask"]
    for row, completion in enumerate(["make it short", "a poem"]):
        kept = ids[row][labels[row] != IGNORE].tolist()
        assert kept == tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert mask[1].sum() < mask[0].sum() and (labels[1][mask[1] == 0] == IGNORE).all()
    long = completion_batch(tokenizer, ["word " * 100], ["short"], _cfg(tiny_llama))
    assert long["input_ids"].shape[1] == 32 and (long["labels"][0] != IGNORE).sum() == 2   # "short" + end


def test_lora_lowers_the_completion_loss_and_returns_a_plain_model(tiny_llama):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    prompts, completions = ["text: the sky is blue"] * 8, ["rewrite it as a poem"] * 8
    cfg = _cfg(tiny_llama, lora=True, lora_r=8, lora_alpha=16, epochs=20, learning_rate=5e-2, batch_size=4,
               lora_target_modules=("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"))
    base = AutoModelForCausalLM.from_pretrained(tiny_llama).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    batch = completion_batch(tokenizer, prompts[:1], completions[:1], cfg)
    model, tokenizer = train_causal_lm(prompts, completions, cfg)
    assert type(model).__name__ == "LlamaForCausalLM" and tokenizer.padding_side == "left"
    with torch.inference_mode():
        assert model(**batch).loss < base(**batch).loss - 0.3   # 10.33 -> 9.91 here
    with pytest.raises(UserError):
        train_causal_lm(prompts, completions[:3], cfg)
