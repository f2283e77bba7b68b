"""Backend Lab helpers: background servers, the framework chooser, the load harness."""

from backendlab.serving import BackgroundServer, running_servers, serve, stop_all

__all__ = ["BackgroundServer", "running_servers", "serve", "stop_all"]
__version__ = "0.1.0"
