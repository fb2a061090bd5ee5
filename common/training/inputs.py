"""Model inputs that are single texts or text pairs (a question and a response), checked and
tokenized the same way in training, prediction, ONNX export and parity checks.

    check_inputs(["an essay", "another"])                     # -> the list, or a UserError
    tokenize(tokenizer, ["an essay"], max_length=128)         # BatchEncoding of torch tensors
    tokenize(tokenizer, [("a question", "a response")], 128, return_tensors="np")

A pair is encoded as the tokenizer's pair template ([CLS] a [SEP] b [SEP] for BERT, with
token_type_ids 0 then 1) and truncated longest side first, as `tokenizers` does on the device.
A tokenizer without a pair template (a causal LM's) gets "\n\n" before the second text.
"""
from __future__ import annotations

from typing import Sequence, Union

from common.errors import UserError

Inputs = Union[Sequence[str], Sequence[tuple[str, str]]]


def is_pairs(inputs: Inputs) -> bool:
    return len(inputs) > 0 and not isinstance(inputs[0], str)


def check_inputs(inputs: Inputs, where: str = "inputs") -> list:
    """A non-empty list of all strings or all (str, str) pairs; anything else is a UserError."""
    items = list(inputs)
    if not items:
        raise UserError(f"{where}: empty")
    if all(isinstance(x, str) for x in items):
        return items
    pairs = [tuple(x) for x in items if isinstance(x, (tuple, list)) and len(x) == 2]
    if len(pairs) != len(items) or not all(isinstance(a, str) and isinstance(b, str) for a, b in pairs):
        raise UserError(f"{where}: want all texts (str) or all text pairs (str, str), not a mix")
    return pairs


def input_length(item) -> int:
    """Characters in a text or a pair, to batch inputs of similar length together."""
    return len(item) if isinstance(item, str) else len(item[0]) + len(item[1])


PAIR_SEPARATOR = "\n\n"


def pair_separator(tokenizer) -> str:
    """What goes before a pair's second text: nothing when the tokenizer has a pair template
    (BERT's [SEP]), else PAIR_SEPARATOR, so a causal LM's tokenizer does not run the two texts
    together ("Is it red?No, it is blue.")."""
    return "" if tokenizer.num_special_tokens_to_add(pair=True) > tokenizer.num_special_tokens_to_add() else PAIR_SEPARATOR


def tokenize(tokenizer, inputs: Inputs, max_length: int, return_tensors: str = "pt", padding=True, **kwargs):
    """Truncated, padded batch for texts or pairs (extra kwargs go to the tokenizer)."""
    if is_pairs(inputs):
        sep = pair_separator(tokenizer)
        firsts, seconds = [a for a, _ in inputs], [sep + b for _, b in inputs]
        return tokenizer(firsts, seconds, truncation="longest_first", max_length=max_length, padding=padding,
                         return_tensors=return_tensors, **kwargs)
    return tokenizer(list(inputs), truncation=True, max_length=max_length, padding=padding,
                     return_tensors=return_tensors, **kwargs)
