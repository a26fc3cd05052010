"""The real local server fixtures, shared with `tests/local`."""

from tests.local.conftest import local_server, shared_server, tiny_model_dir

__all__ = ["local_server", "shared_server", "tiny_model_dir"]
