"""Settings for benchmarks: the production settings plus one bare view as the baseline."""

from rathaus.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
