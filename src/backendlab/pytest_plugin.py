"""pytest plugin for the course's own test run (enabled in pyproject.toml with ``-p``).

It reaches every collected item, chapter notebooks under nbval included:

- kernels started by the tests get the same environment as those of ``make notebooks``;
- under ``pytest -n 2 --dist loadgroup`` all cells of one notebook (which share one kernel
  under nbval) go to the same pytest-xdist worker, while other tests spread freely.
"""

from __future__ import annotations

import pytest

from backendlab.notebook_runner import use_kernel_env


def pytest_configure(config: pytest.Config) -> None:
    use_kernel_env()
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one pytest-xdist worker")
    config.pluginmanager.register(_CarryXdistGroupNames(), "backendlab-xdist-group-names")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(name=f"notebook-{item.path.stem}"))


class _CarryXdistGroupNames:
    """pytest-xdist 3.8 names a grouped item by setting ``item._nodeid = "<id>@<group>"``;
    pytest 9.2 derives ``nodeid`` from ``item._id`` instead, so carry the new name over."""

    @pytest.hookimpl(trylast=True)  # after pytest-xdist has renamed grouped items
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        try:
            from _pytest.nodeid import NodeId
        except ImportError:  # older pytest: `_nodeid` is still what `nodeid` returns
            return
        for item in items:
            renamed = item.__dict__.get("_nodeid")
            if isinstance(renamed, str) and renamed != item.nodeid:
                item._id = NodeId.parse(renamed)
