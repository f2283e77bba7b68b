"""Backend Lab helpers: background servers, framework commands, the chooser, the load harness."""

from backendlab.commands import run_command
from backendlab.serving import BackgroundServer, running_servers, serve, stop_all

__all__ = ["BackgroundServer", "run_command", "running_servers", "serve", "stop_all"]
__version__ = "0.1.0"
