"""One seed for every global generator a run may draw from: python's, numpy's and torch's.

    from common.seeding import seed_everything
    seed_everything(42)     # make submit, make edge and the Kaggle notebook, before the solution runs
"""
from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and (when installed) torch's global generators."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)
