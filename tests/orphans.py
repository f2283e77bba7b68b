"""Checks that a child process does not outlive a parent killed outright (``kill -9``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil


def running(pid: int) -> bool:
    """True while ``pid`` is a live process (not a zombie)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_child_dies_with_its_parent(parent_code: str, pid_file: Path) -> None:
    """Run ``parent_code`` (which starts a child and writes the child's pid to ``pid_file``), kill the
    parent with SIGKILL and assert the child stops too. Nothing is left behind, even on failure."""
    parent = subprocess.Popen([sys.executable, "-c", parent_code], start_new_session=True)
    child_pid = 0
    try:
        deadline = time.monotonic() + 30  # the parent imports the package, then starts a Python child
        while parent.poll() is None and time.monotonic() < deadline:
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.05)
        child_pid = int(pid_file.read_text())
        assert running(child_pid)
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10  # the parent-death signal is sent at once; 10 s covers a loaded machine
        while running(child_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not running(child_pid), "the child outlived its parent"
    finally:
        with contextlib.suppress(OSError):
            os.killpg(parent.pid, signal.SIGKILL)
        if child_pid:
            with contextlib.suppress(OSError):
                os.killpg(child_pid, signal.SIGKILL)  # never left behind, even when the test fails
