"""Moved to ``hybridmem.testing.native_process``; kept for code loading it by path."""

from hybridmem.testing.native_process import *  # noqa: F403
