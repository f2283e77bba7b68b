"""wrk, the C load generator, as a yardstick for the pure-Python client (used only if on PATH)."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

from backendlab.bench.process import run_child

__all__ = ["parse_wrk_output", "run_wrk", "wrk_path", "wrk_version"]

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str | None:
    path = wrk_path()
    if path is None:
        return None
    # `wrk -v` prints its version line and the usage, and exits non-zero
    completed = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=10, check=False)
    first = (completed.stdout or completed.stderr).strip().splitlines()
    return first[0] if first else "wrk"


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"not a wrk duration: {value!r}")
    return round(float(match.group(1)) * _UNITS[match.group(2)], 3)


def parse_wrk_output(text: str) -> dict[str, Any]:
    """Requests/s, latency percentiles (ms) and error counts from ``wrk --latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in ([\d.]+\w+),", text)
    if not rps or not total:
        raise ValueError(f"unrecognised wrk output:\n{text[:1000]}")
    latency = {f"p{q}": _ms(v) for q, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.MULTILINE)}
    max_match = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", text, re.MULTILINE)
    latency["max"] = _ms(max_match.group(1)) if max_match else None
    errors: dict[str, int] = {}
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket_errors:
        for name, count in zip(("connect", "read", "write", "timeout"), socket_errors.groups(), strict=True):
            if int(count):
                errors[name] = int(count)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non_2xx:
        errors["non-2xx"] = int(non_2xx.group(1))
    return {
        "requests": int(total.group(1)),
        "rps": round(float(rps.group(1)), 1),
        "latency_ms": latency,
        "errors": errors,
        "error_count": sum(errors.values()),
    }


def run_wrk(url: str, *, concurrency: int, duration: float, threads: int = 1, timeout: float = 5.0,
            cpus: set[int] | None = None) -> dict[str, Any]:
    """Run wrk for ``duration`` seconds at ``concurrency`` connections (its process group killed if it overruns)."""
    path = wrk_path()
    if path is None:
        raise FileNotFoundError("wrk is not on PATH")
    seconds = max(1, round(duration))
    command = [path, f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", f"--timeout={timeout:g}s", "--latency", url]
    result = parse_wrk_output(run_child(command, timeout=seconds + timeout + 15, cpus=cpus))
    result.update(concurrency=concurrency, duration_s=seconds, threads=threads)
    return result
