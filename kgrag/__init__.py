"""kgrag: knowledge-graph-augmented RAG.

Importing the package loads no model and opens no connection; `Client` is imported on
first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Client", "Settings", "__version__"]

if TYPE_CHECKING:
    from kgrag.client import Client
    from kgrag.core.settings import Settings


def __getattr__(name: str) -> Any:
    if name == "Client":
        from kgrag.client import Client

        return Client
    if name == "Settings":
        from kgrag.core.settings import Settings

        return Settings
    raise AttributeError(f"module 'kgrag' has no attribute {name!r}")
