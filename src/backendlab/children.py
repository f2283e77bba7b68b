"""What every long-running child process of the course gets between fork and exec."""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable

__all__ = ["prepare_child"]

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _find_prctl() -> Callable[..., int] | None:
    # Looked up once, in the parent: the child, between fork and exec, should only make the call.
    if sys.platform != "linux":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _find_prctl()


def prepare_child() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Let Ctrl+C reach the child, and on Linux send it SIGTERM when its parent dies without stopping it.

    A program started in the background by a non-interactive shell (``nohup make test &``, a service)
    inherits SIGINT *ignored*, and Python then installs no KeyboardInterrupt handler: a Ctrl+C sent to
    stop the child would do nothing. The default disposition is restored here.

    The parent-death signal covers a parent killed outright (a kernel restarted, ``kill -9`` on a test
    run): the child would otherwise live on, orphaned, in a session of its own. Linux sends it when the
    *thread* that started the child exits (prctl(2), PR_SET_PDEATHSIG), so start children from a thread
    that outlives them.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
