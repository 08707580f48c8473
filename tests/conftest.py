import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Fixed seed: a failure must reproduce exactly from the printed parameters.
SEED = 20240611

# Hypothesis profiles, chosen with FASTLRN_HYPOTHESIS_PROFILE:
#   ci   (default) bounded and deterministic: the same examples every run,
#        no example database, so CI never depends on what an earlier run saw.
#   long thousands of random examples per property, for manual runs:
#        FASTLRN_HYPOTHESIS_PROFILE=long pytest tests/test_properties.py \
#            --hypothesis-show-statistics
# Tests that pin their own settings (test_forward.py) keep them; settings
# they do not name come from the profile. deadline=None everywhere: a call
# that takes long on a loaded 2-core machine is not a failure.
_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=100, derandomize=True,
                          database=None, **_COMMON)
settings.register_profile("long", max_examples=3000, **_COMMON)
HYPOTHESIS_PROFILE = os.environ.get("FASTLRN_HYPOTHESIS_PROFILE", "ci")
settings.load_profile(HYPOTHESIS_PROFILE)


def pytest_report_header(config):
    s = settings.get_profile(HYPOTHESIS_PROFILE)
    return (f"fastlrn hypothesis profile: {HYPOTHESIS_PROFILE} "
            f"(max_examples={s.max_examples}, derandomize={s.derandomize})")


@pytest.fixture
def rng():
    """A fresh generator with a fixed seed for each test."""
    return np.random.default_rng(SEED)
