"""The one seeded AdamW loop of the shared trainers (text classifier, causal LM).

    from common.training.loop import adamw_steps
    with training_session(cfg):
        adamw_steps(model, cfg, len(items), lambda idx: loss_of(model, [items[i] for i in idx]))

Each epoch visits the items in a fresh permutation drawn from cfg.seed, in batches of
cfg.batch_size; each batch's loss is backpropagated, gradients are clipped to cfg.max_grad_norm,
and AdamW (cfg.learning_rate, cfg.weight_decay) steps under a linear warm-up (cfg.warmup_ratio)
then linear decay. Only parameters that require gradients are optimized.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from tqdm.auto import tqdm


def adamw_steps(model, cfg, n_items: int, batch_loss: Callable[[np.ndarray], "object"]) -> None:
    """Train `model` in place: batch_loss(indices) -> a scalar torch loss for those items."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    order_rng = np.random.default_rng(cfg.seed)
    total = -(-n_items // cfg.batch_size) * cfg.epochs
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    schedule = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * total), total)
    model.train()
    bar = tqdm(total=total, desc="train", disable=not cfg.show_progress_bar, unit="step")
    for _ in range(cfg.epochs):
        order = order_rng.permutation(n_items)
        for start in range(0, n_items, cfg.batch_size):
            loss = batch_loss(order[start:start + cfg.batch_size])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}")
    bar.close()
