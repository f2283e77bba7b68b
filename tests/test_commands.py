"""run_command: a framework's own command in a subprocess, with serve()'s promises."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from orphans import assert_child_dies_with_its_parent

from backendlab import running_servers, stop_all
from backendlab.commands import run_command
from backendlab.serving import ServerStartError, ServingError

HTTP_SERVER = f"{sys.executable} -m http.server {{port}} --bind 127.0.0.1"


def gone(pids: list[int]) -> bool:
    """True when none of ``pids`` is a live (non-zombie) process."""
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


def test_serves_on_a_free_loopback_port_and_stops_with_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("from disk")
    with run_command(HTTP_SERVER, cwd=tmp_path, name="static") as server:
        assert server.running
        response = requests.get(server.url + "/page.txt", timeout=5)
        assert response.text == "from disk"
        assert "Serving HTTP on 127.0.0.1" in server.banner
        pid = server.pid
    assert not server.running
    # http.server answers Ctrl+C by printing this and exiting cleanly: SIGINT was what stopped it.
    assert "Keyboard interrupt received, exiting." in server.output
    assert server.returncode == 0
    assert gone([pid])
    assert server not in running_servers()



def test_ctrl_c_reaches_a_command_started_with_sigint_ignored(tmp_path: Path) -> None:
    """A kernel or ``make test`` started in the background by a non-interactive shell inherits SIGINT
    ignored; the command must still stop on Ctrl+C (its clean exit, not the later SIGTERM)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with run_command(HTTP_SERVER, cwd=tmp_path, name="sigint-ignored") as server:
            assert requests.get(server.url + "/", timeout=5).status_code == 200
    finally:
        signal.signal(signal.SIGINT, previous)
    assert "Keyboard interrupt received, exiting." in server.output
    assert server.returncode == 0


def test_a_command_does_not_outlive_a_kernel_killed_outright(tmp_path: Path) -> None:
    """A kernel restarted (or killed) before ``stop()`` must not leave the command serving, orphaned."""
    out = tmp_path / "command.pid"
    kernel_code = textwrap.dedent(f"""
        import pathlib, time
        from backendlab.commands import run_command
        server = run_command({HTTP_SERVER!r}, cwd={str(tmp_path)!r}, name="orphan")
        pathlib.Path({str(out)!r}).write_text(str(server.pid))
        time.sleep(60)
    """)
    assert_child_dies_with_its_parent(kernel_code, out)


def test_the_whole_process_group_is_stopped(tmp_path: Path) -> None:
    # A command that leaves a helper process in its group that is no longer its descendant (the
    # subshell that started it exits): only a signal to the process group reaches it.
    script = f"(sleep 60 >/dev/null 2>&1 & echo helper $!) ; exec {HTTP_SERVER}"
    server = run_command(["sh", "-c", script], cwd=tmp_path, name="with-helper")
    helper_pid = int(server.banner.split("helper ")[1].split()[0])
    assert psutil.pid_exists(helper_pid)
    try:
        assert helper_pid not in [p.pid for p in psutil.Process(server.pid).children(recursive=True)]
        server.stop()
        deadline = time.monotonic() + 5
        while not gone([helper_pid]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gone([helper_pid]), "a process the command started outlived stop()"
    finally:
        server.stop()
        with contextlib.suppress(OSError):
            os.kill(helper_pid, signal.SIGKILL)  # never left behind, even when the test fails


def test_a_command_that_ignores_ctrl_c_is_terminated(tmp_path: Path) -> None:
    script = (
        "import signal, runpy, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "sys.argv = ['http.server', sys.argv[1], '--bind', '127.0.0.1']; "
        "runpy.run_module('http.server', run_name='__main__')"
    )
    server = run_command([sys.executable, "-c", script, "{port}"], cwd=tmp_path, name="stubborn", stop_timeout=0.5)
    pid = server.pid
    server.stop()
    assert server.returncode == -signal.SIGTERM
    assert gone([pid])


def test_running_again_under_the_same_name_replaces_the_previous_process(tmp_path: Path) -> None:
    first = run_command(HTTP_SERVER, cwd=tmp_path, name="again")
    second = run_command(HTTP_SERVER, cwd=tmp_path, name="again")
    try:
        assert not first.running and gone([first.pid])
        assert second.running
        assert [s for s in running_servers() if s.name == "again"] == [second]
    finally:
        second.stop()


def test_stop_all_stops_commands_too(tmp_path: Path) -> None:
    server = run_command(HTTP_SERVER, cwd=tmp_path, name="stop-all")
    stop_all()
    assert not server.running and gone([server.pid])


def test_a_command_that_exits_says_why(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError, match=r"exited with status 3 before serving:\n.*broken on purpose"):
        run_command(
            [sys.executable, "-c", "import sys; print('broken on purpose'); sys.exit(3)", "{port}"], cwd=tmp_path
        )


def test_a_command_that_never_listens_is_stopped_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []

    class RecordingPopen(subprocess.Popen):  # the pid, however far the child got before the timeout
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self.pid)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    with pytest.raises(ServerStartError, match="did not listen"):
        run_command([sys.executable, "-c", "import time; time.sleep(60)", "{port}"], cwd=tmp_path, startup_timeout=1.5)
    assert len(started) == 1 and gone(started)


def test_the_port_placeholder_is_required(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\{port\}"):
        run_command("flask --app hello run", cwd=tmp_path)


def test_missing_program_and_missing_folder_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ServingError, match="command not found: 'no-such-program'"):
        run_command("no-such-program --port {port}", cwd=tmp_path)
    with pytest.raises(ServingError, match="does not exist"):
        run_command(HTTP_SERVER, cwd=tmp_path / "missing")


def test_output_shows_the_folder_as_given_and_no_colour_codes(tmp_path: Path) -> None:
    code = (
        "import os, sys; print('\\x1b[31mred\\x1b[0m in', os.getcwd(), flush=True); "
        "sys.argv = ['x', sys.argv[1], '--bind', '127.0.0.1']; import runpy; "
        "runpy.run_module('http.server', run_name='__main__')"
    )
    project = tmp_path / "project"
    project.mkdir()
    relative = project.relative_to(Path.cwd()) if project.is_relative_to(Path.cwd()) else project
    with run_command([sys.executable, "-c", code, "{port}"], cwd=project, name="colours") as server:
        pass
    assert "\x1b" not in server.output
    assert f"red in {project}" in server.output or f"red in {relative}" in server.output


def test_flask_run_as_users_type_it(tmp_path: Path) -> None:
    (tmp_path / "hello.py").write_text(
        textwrap.dedent("""
        from flask import Flask
        app = Flask(__name__)

        @app.get("/")
        def index():
            return "Hello from flask run"
    """)
    )
    with run_command("flask --app hello run --port {port}", cwd=tmp_path, name="flask-run") as server:
        assert requests.get(server.url, timeout=5).text == "Hello from flask run"
        assert f"Running on http://127.0.0.1:{server.port}" in server.banner


def test_the_banner_waits_for_the_line_naming_the_port(tmp_path: Path) -> None:
    # A server that listens, is slow to print its "running on" line (a loaded machine), then
    # prints one more line with it: the banner holds both.
    code = (
        "import socket, sys, time\n"
        "s = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
        "print('starting', flush=True)\n"
        "time.sleep(0.6)\n"
        "print(f'running on http://127.0.0.1:{sys.argv[1]}', flush=True)\n"
        "print('press Ctrl+C to quit', flush=True)\n"
        "while True:\n"
        "    s.accept()[0].close()\n"
    )
    with run_command([sys.executable, "-c", code, "{port}"], cwd=tmp_path, name="slow-banner") as server:
        assert server.banner.splitlines() == [
            "starting", f"running on http://127.0.0.1:{server.port}", "press Ctrl+C to quit"
        ]


def test_a_swallowed_ctrl_c_is_followed_by_a_second_one(tmp_path: Path) -> None:
    # Like wsgiref finishing a request: the first SIGINT is caught and ignored, the second stops it.
    code = (
        "import signal, sys, socket\n"
        "hits = []\n"
        "def handler(signum, frame):\n"
        "    hits.append(signum)\n"
        "    if len(hits) == 2:\n"
        "        print('second Ctrl+C', flush=True); sys.exit(0)\n"
        "signal.signal(signal.SIGINT, handler)\n"
        "s = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
        "print('listening on port', sys.argv[1], flush=True)\n"
        "while True:\n"
        "    s.accept()[0].close()\n"
    )
    server = run_command([sys.executable, "-c", code, "{port}"], cwd=tmp_path, name="swallows", stop_timeout=6)
    started = time.monotonic()
    server.stop()
    assert "second Ctrl+C" in server.output and server.returncode == 0
    assert time.monotonic() - started < 5.5, "the second Ctrl+C came only after the whole stop timeout"


def test_env_sets_and_removes_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNEL_ONLY", "1")
    code = (
        "import os, sys; print('kernel-only' in [k.lower().replace('_', '-') for k in os.environ], "
        "os.environ.get('GREETING'), flush=True); import runpy; "
        "sys.argv = ['x', sys.argv[1], '--bind', '127.0.0.1']; runpy.run_module('http.server', run_name='__main__')"
    )
    with run_command(
        [sys.executable, "-c", code, "{port}"], cwd=tmp_path, name="env", env={"KERNEL_ONLY": None, "GREETING": "hello"}
    ) as server:
        pass
    assert "False hello" in server.output
