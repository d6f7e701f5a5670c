"""Hypothesis profiles for every test session, chosen by the HYPOTHESIS_PROFILE environment variable.

- ``ci`` (default): quick enough for every run of the test command.
- ``dev``: a smoke run while editing.
- ``fuzz``: the long run (``HYPOTHESIS_PROFILE=fuzz``): 100k examples per property, no deadline.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=_SLOW_OK)
settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=_SLOW_OK)
settings.register_profile(
    "fuzz",
    max_examples=100_000,
    deadline=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    print_blob=True,
    suppress_health_check=_SLOW_OK,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
