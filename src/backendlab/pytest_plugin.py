"""pytest plugin for the course's own test run (enabled in pyproject.toml with ``-p``).

It reaches every collected item, chapter notebooks under nbval included: kernels started by
the tests get the same environment as those of ``make notebooks``.

Parallel runs use ``--dist loadfile`` so that all cells of one notebook (which share one
kernel under nbval) go to the same pytest-xdist worker. (``loadgroup`` would be finer, but
pytest-xdist 3.8 tags groups by rewriting ``item._nodeid``, which pytest 9.2 no longer reads.)
"""

from __future__ import annotations

import pytest

from backendlab.notebook_runner import use_kernel_env


def pytest_configure(config: pytest.Config) -> None:
    use_kernel_env()
