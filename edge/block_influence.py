"""ShortGPT's block influence, for structured pruning of any transformers model that returns
hidden states (the causal LM in edge/generator/, the encoder student in edge/classifier/).

    from edge.block_influence import block_influence
    scores = block_influence(model, [{"input_ids": ids, "attention_mask": mask}, ...])   # one per block
    weakest = scores.index(min(scores))

A block's influence is 1 - the mean cosine similarity of its input and output hidden states over
the real tokens of the batches (padding, where attention_mask is 0, is left out): a block that
barely turns its input costs least to remove.
"""
from __future__ import annotations


def block_influence(model, batches) -> list[float]:
    """One score per transformer block; `batches` are the model's keyword arguments (tensors)."""
    import torch

    sums, count = None, 0
    with torch.inference_mode():
        for feed in batches:
            hidden = model(**feed, output_hidden_states=True).hidden_states
            mask = feed.get("attention_mask")
            real = torch.ones(hidden[0].shape[:2], dtype=torch.bool) if mask is None else mask.bool()
            cos = [torch.nn.functional.cosine_similarity(a[real], b[real], dim=-1).sum()
                   for a, b in zip(hidden[:-1], hidden[1:])]
            values = torch.stack(cos).double()
            sums = values if sums is None else sums + values
            count += int(real.sum())
    return [float(1 - s / count) for s in sums]
