"""Shared set-up lives in the backendlab.pytest_plugin (it must also reach notebooks/)."""
