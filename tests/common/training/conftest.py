"""What the trainer tests share: a tiny random Llama with the MiniLM tokenizer."""
import pytest
import torch


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory):
    """A 2-layer Llama with random weights (seed 0) and the MiniLM tokenizer ([SEP] as end of
    sequence): SmolLM2's architecture, tiny."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from common.models import encoder_path

    tokenizer = AutoTokenizer.from_pretrained(encoder_path("minilm"))
    tokenizer.eos_token = "[SEP]"
    config = LlamaConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    folder = tmp_path_factory.mktemp("tiny-llama")
    torch.manual_seed(0)   # the random weights, whatever ran before
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
