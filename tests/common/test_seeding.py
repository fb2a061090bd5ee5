import random

import numpy as np
import torch

from common.seeding import seed_everything


def test_one_seed_sets_python_numpy_and_torch_alike():
    seed_everything(11)
    first = (random.random(), np.random.random(), torch.rand(1).item())
    seed_everything(11)
    assert (random.random(), np.random.random(), torch.rand(1).item()) == first
    seed_everything(12)
    assert (random.random(), np.random.random(), torch.rand(1).item()) != first
