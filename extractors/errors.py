"""The one exception type that parsing raises for bad input."""

from __future__ import annotations

from pathlib import Path


class ParseError(Exception):
    """A file that cannot be turned into a Document; names the file and the reason.

    The ingest flow records it and carries on with the other files.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, str]]:
        # Exceptions pickle through `args`; ours takes two arguments, so say how
        # (Prefect and process pools pickle task failures).
        return (ParseError, (self.path, self.reason))
