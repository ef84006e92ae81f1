"""The app's settings, with benchmarks.floor_urls as the URLs (benchmarks/load.py only)."""

from __future__ import annotations

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.floor_urls"
