"""kgrag's own exceptions. Each is an expected, user-fixable failure whose message says
what went wrong and what to do; the CLI prints it as one line. Anything else is a bug
and keeps its traceback."""

from __future__ import annotations

from pathlib import Path


class KgragError(Exception):
    """Base class of every expected failure."""


class ConfigError(KgragError, ValueError):
    """A setting, option or name the user gave is not valid (the message says which)."""


class QuestionError(KgragError, ValueError):
    """A question that cannot be asked: empty, or longer than the configured limit."""


class ParseError(KgragError):
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


class ModelNotFoundError(KgragError):
    """A configured model cannot be found locally (nothing is downloaded at run time)."""


class WorkspaceNotFoundError(KgragError):
    """A query names a workspace that holds no data yet."""


class DocumentNotFoundError(KgragError, LookupError):
    """A delete names a document (path or id) the workspace does not hold."""


class ServiceError(KgragError):
    """A local server kgrag starts or uses is missing, busy or someone else's."""


class StoreUnavailableError(KgragError):
    """The graph or vector store cannot be reached or opened."""


class LLMNotFoundError(ModelNotFoundError):
    """No GGUF chat model at the configured path."""


class LLMUnavailableError(KgragError):
    """The LLM server (KGRAG_LLM_URL) is down, too slow, or answers with an error; the
    message names the URL and the reason."""


class RerankerNotFoundError(ModelNotFoundError):
    """A configured cross-encoder cannot be loaded from local files."""


class InputNotFoundError(KgragError):
    """A file or folder the user named does not exist."""


class EntityNotFoundError(KgragError, LookupError):
    """No entity of the graph has (or is close to) the name asked for."""


class PathNotAllowedError(KgragError):
    """A server was asked to read a path outside the folders it may ingest from."""


class AuthError(KgragError):
    """A request to the server without the right API key."""
