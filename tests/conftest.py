"""Shared test set-up: the kernel environment, and keeping each notebook on one xdist worker."""

from __future__ import annotations

import pytest

from backendlab.notebook_runner import use_kernel_env

use_kernel_env()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one pytest-xdist worker")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # nbval's items are the cells of one notebook sharing one kernel: one worker runs them all.
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(name=str(item.path)))
