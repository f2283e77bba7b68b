"""Running a submitted notebook: nbgrader's Execute preprocessor, guarded and sandboxed.

:func:`guarded_execute_class` builds ``GuardedExecute`` (lazily: importing nbgrader costs a
second). It runs in the grading worker, outside the sandbox; only the kernel runs inside it.
The worker therefore decides every test cell's outcome from what it received, never from a file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import signal
import time
from collections import Counter
from typing import Any, ClassVar

import nbformat

from backendlab.grading.sandbox import Sandbox

# Seconds a kernel gets, after a timed-out cell was interrupted, to show it is listening again.
INTERRUPT_GRACE = 5.0
# Characters of output (text of stream, display and result messages) kept per cell.
MAX_OUTPUT_CHARS = 100_000

# Errors by which the sandbox stops an attempt, and how the report names the attempt.
SANDBOX_ERRNOS = {
    errno.EROFS: "write to a read-only place",
    errno.EACCES: "reach something it may not",
    errno.EPERM: "do something it may not",
    errno.ENETUNREACH: "reach the network",
    errno.EHOSTUNREACH: "reach the network",
    errno.EFBIG: "write a file over the size limit",
    errno.EAGAIN: "start more processes than the limit",
    errno.EMFILE: "open more files than the limit",
}
ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")
PATH_IN_TEXT = re.compile(r": '(/[^']*)'")
# Where the student's own files are inside the sandbox (a missing file there is no attempt to get out).
INSIDE = "/home/student/"


def sandbox_attempt(output: dict[str, Any]) -> str | None:
    """What an error output says the code tried and the sandbox stopped, or None."""
    if output.get("output_type") != "error":
        return None
    ename, evalue = output.get("ename", ""), str(output.get("evalue", ""))
    if ename == "MemoryError":
        return f"allocate more memory than the limit ({ename})"
    found = ERRNO_IN_TEXT.search(evalue)
    if not found:
        return None
    number = int(found.group(1))
    if number in SANDBOX_ERRNOS:
        return f"{SANDBOX_ERRNOS[number]} ({ename}: {evalue[:160]})"
    path = PATH_IN_TEXT.search(evalue)
    if number in (errno.ENOENT, errno.ENOTDIR) and path and not path.group(1).startswith(INSIDE):
        return f"reach a path that does not exist in its sandbox ({ename}: {evalue[:160]})"
    return None


def sandboxed_kernel_manager(sandbox: Sandbox) -> type:
    """A kernel manager class whose kernels start inside ``sandbox``, on Unix sockets."""
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        count: ClassVar[int] = 0

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            SandboxedKernelManager.count += 1
            self.transport = "ipc"  # TCP would need the grader inside the kernel's network namespace
            self.ip = str(sandbox.sockets / f"k{SandboxedKernelManager.count}")
            self.connection_file = str(sandbox.sockets / f"kernel-{SandboxedKernelManager.count}.json")

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            command = super().format_kernel_cmd(extra_arguments)
            # A signal to bwrap's process group would not reach the kernel, in a session of its own
            # inside: interrupt it with a message on the control channel instead (ipykernel >= 6).
            assert self.kernel_spec is not None
            self.kernel_spec.interrupt_mode = "message"
            sandbox.give_to_sandbox(*sandbox.sockets.iterdir())
            return sandbox.argv(command)

    return SandboxedKernelManager


def canary_source(source: str, nonce: str) -> str:
    """A test cell's source that fails at once with ``nonce`` as its message."""
    return f"assert False, {nonce!r}\n{source}"


def guarded_execute_class() -> type:
    """Build :class:`GuardedExecute`."""
    import psutil
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbclient.util import run_sync
    from nbformat.v4 import output_from_msg
    from nbgrader import utils
    from nbgrader.preprocessors import Execute
    from traitlets import Float, Integer

    class GuardedExecute(Execute):
        """nbgrader's Execute, made robust for untrusted code.

        * With :attr:`sandbox` set, the kernel runs in it (see :mod:`backendlab.grading.sandbox`).
        * A test cell passes only if the kernel's reply to it says ``ok`` and it showed no error;
          a result value in a test cell (nbgrader's partial credit) is dropped: test cells here are
          all or nothing. After each test cell a *canary* (the same cell with a failing first line)
          must fail with its random message: if it does not, the kernel's error reporting was
          tampered with, and that test cell and every later one score 0.
        * A kernel that dies or does not come back after the timeout interrupt no longer fails the
          whole notebook: the cell gets an error output, the remaining cells are marked as not run
          (so their tests score 0), and the cells that ran before keep their grades.
        * At most ``max_output_chars`` characters of output are kept per cell.
        * What the sandbox stopped, and processes still running when the notebook ends, are
          reported; the processes die with the sandbox.
        """

        max_output_chars = Integer(MAX_OUTPUT_CHARS, help="Characters of output kept per cell.").tag(config=True)
        interrupt_grace = Float(
            INTERRUPT_GRACE, help="Seconds a kernel gets to answer again after a timed-out cell is interrupted."
        ).tag(config=True)

        #: The sandbox of the submission being graded (None: no sandbox, --unsafe-no-sandbox).
        sandbox: ClassVar[Sandbox | None] = None
        #: What happened, per notebook, for the worker's report (one worker grades one submission).
        events: ClassVar[list[dict[str, Any]]] = []

        def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
            self._given_up: str | None = None
            self._tampered: str | None = None
            self._output_chars: dict[int, int] = {}
            self._truncated: set[int] = set()
            self._kernel_pgid: int | None = None
            self._leftovers: list[str] = []
            notebook_id = (resources or {}).get("nbgrader", {}).get("notebook", "?")
            self._events: list[str] = []
            if GuardedExecute.sandbox is not None:
                self.kernel_manager_class = sandboxed_kernel_manager(GuardedExecute.sandbox)
            try:
                return super().preprocess(nb, resources, km)
            finally:
                self._kill_kernel_group()
                if self._leftovers:
                    counts = Counter(self._leftovers)
                    shown = ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in counts.most_common(5))
                    self._events.append(
                        f"{len(self._leftovers)} process(es) it started were still running when the notebook "
                        f"ended and were killed with its sandbox: {shown}"
                    )
                GuardedExecute.events.append({"notebook": notebook_id, "events": self._events})

        # -- cells -----------------------------------------------------------------------

        def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
            if cell.cell_type != "code" or not cell.source.strip():
                return cell, resources
            self._remember_kernel_group()
            label = self._label(cell, index)
            if self._given_up:
                cell.outputs = [self._error("CellNotRun", f"not run: {self._given_up}")]
                return cell, resources
            self._reply: dict[str, Any] | None = None
            try:
                cell, resources = super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self._give_up(cell, label, f"the kernel died while running {label}", "KernelDied")
                return cell, resources
            except CellTimeoutError:  # nbclient gave up waiting for the interrupted cell's last output
                self._events.append(f"{label} timed out after {self.timeout} s and was interrupted")
                self._give_up(cell, label, f"the kernel did not stop after {label} timed out", "KernelStuck")
                self._shut_down_kernel()
                return cell, resources
            timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.outputs)
            if timed_out:
                self._events.append(f"{label} timed out after {self.timeout} s and was interrupted")
                if not run_sync(self._async_kernel_answers)(self.interrupt_grace):
                    self._given_up = f"the kernel stopped answering after {label} timed out"
                    self._events.append(self._given_up + "; the cells after it were not run")
                    self._shut_down_kernel()
            if utils.is_grade(cell):
                self._judge_test_cell(cell, label)
            for output in cell.outputs:
                attempt = sandbox_attempt(output)
                if attempt and not utils.is_grade(cell):
                    self._events.append(f"{label} tried to {attempt}; the sandbox stopped it")
            self._leftovers = self._processes_left()
            return cell, resources

        def _judge_test_cell(self, cell: Any, label: str) -> None:
            """Decide from the kernel's reply, not only from what it printed."""
            before = len(cell.outputs)
            cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
            if len(cell.outputs) != before:
                self._events.append(f"{label}: a result value appeared in a test cell and was ignored")
            failed = any(o.output_type == "error" for o in cell.outputs)
            status = (self._reply or {}).get("content", {}).get("status")
            if not failed and status != "ok" and not self._given_up:
                cell.outputs.append(self._error(
                    "TestFailed", f"the kernel answered {status!r} to this test cell but showed no error"))
                self._events.append(f"{label} failed without showing an error (its error display was altered)")
            if self._tampered is None and not self._given_up:
                self._tampered = self._canary(cell.source)
                if self._tampered:
                    self._events.append(f"{label}: {self._tampered}; this and every later test cell score 0")
            if self._tampered:
                cell.outputs.append(self._error("KernelTampered", self._tampered))

        def _canary(self, source: str) -> str | None:
            nonce = secrets.token_hex(12)
            try:
                reply = run_sync(self._async_run_silently)(canary_source(source, nonce), 10.0)
            except Exception as exc:  # noqa: BLE001 (any failure to answer counts as tampering)
                return f"the kernel did not answer a check of its error reporting ({type(exc).__name__})"
            content = (reply or {}).get("content", {})
            if content.get("status") == "error" and content.get("evalue") == nonce:
                return None
            return "the kernel no longer reports a failing assert as an error (its execution was tampered with)"

        async def _check_raise_for_error(self, cell: Any, cell_index: int, exec_reply: Any) -> None:
            self._reply = exec_reply  # the kernel's execute_reply to this cell
            await super()._check_raise_for_error(cell, cell_index, exec_reply)

        async def _async_run_silently(self, code: str, timeout: float) -> dict[str, Any] | None:
            from queue import Empty

            msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + timeout
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    msg = await self.kc.shell_channel.get_msg(timeout=remaining)
                except Empty:
                    break
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    return msg
            return None

        def _shut_down_kernel(self) -> None:
            with contextlib.suppress(Exception):
                run_sync(self.km.shutdown_kernel)(now=True)
            self._kill_kernel_group()

        def _give_up(self, cell: Any, label: str, reason: str, ename: str) -> None:
            self._given_up = reason
            cell.outputs.append(self._error(ename, reason))
            self._events.append(reason + "; the cells after it were not run")

        async def _async_kernel_answers(self, grace: float) -> bool:
            """True if the kernel answers a no-op request within ``grace`` seconds."""
            return await self._async_run_silently("", grace) is not None

        def _processes_left(self) -> list[str]:
            """Names of processes running in the sandbox besides the kernel (and bwrap itself)."""
            pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
            if not pid or GuardedExecute.sandbox is None:
                return []
            try:
                found = psutil.Process(pid).children(recursive=True)
            except psutil.Error:
                return []
            names = []
            for process in found:
                with contextlib.suppress(psutil.Error):
                    cmdline = process.cmdline()
                    if process.name() == "bwrap" or "ipykernel_launcher" in cmdline:
                        continue
                    names.append(process.name())
            return names

        # -- output cap ------------------------------------------------------------------

        def output(self, outs: list, msg: dict, display_id: Any, cell_index: int) -> Any:
            msg_type = msg["msg_type"]
            content = msg["content"]
            if msg_type == "stream":
                size = len(content.get("text", ""))
            elif msg_type in ("display_data", "execute_result"):
                size = sum(len(str(value)) for value in content.get("data", {}).values())
            else:
                return super().output(outs, msg, display_id, cell_index)
            used = self._output_chars.get(cell_index, 0)
            self._output_chars[cell_index] = used + size
            if used + size <= self.max_output_chars:
                return super().output(outs, msg, display_id, cell_index)
            if cell_index not in self._truncated:
                self._truncated.add(cell_index)
                room = self.max_output_chars - used
                if msg_type == "stream" and room > 0:
                    outs.append(output_from_msg({**msg, "content": {**content, "text": content["text"][:room]}}))
                outs.append(nbformat.v4.new_output(
                    "stream", name="stdout",
                    text=f"\n[output truncated by the grader: more than {self.max_output_chars} characters]\n",
                ))
                self._events.append(
                    f"cell {cell_index + 1} printed more than {self.max_output_chars} characters; the rest was dropped"
                )
            return None

        # -- helpers ---------------------------------------------------------------------

        @staticmethod
        def _label(cell: Any, index: int) -> str:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            return f"cell {index + 1} ({grade_id})" if grade_id else f"cell {index + 1}"

        @staticmethod
        def _error(ename: str, evalue: str) -> Any:
            return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])

        def _remember_kernel_group(self) -> None:
            if self._kernel_pgid is None:
                provisioner = getattr(self.km, "provisioner", None)
                pgid = getattr(provisioner, "pgid", None)
                if pgid and pgid != os.getpgid(0):
                    self._kernel_pgid = pgid

        def _kill_kernel_group(self) -> None:
            if self._kernel_pgid:
                with contextlib.suppress(OSError):
                    os.killpg(self._kernel_pgid, signal.SIGKILL)

    return GuardedExecute
