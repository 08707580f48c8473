import numpy as np
import pytest

# Fixed seed: a failure must reproduce exactly from the printed parameters.
SEED = 20240611


@pytest.fixture
def rng():
    """A fresh generator with a fixed seed for each test."""
    return np.random.default_rng(SEED)
