"""`ChatModel`: what answer generation and query rewriting need from an LLM.

Two implementations: `LocalLlama` (kgrag.generation.llm, a GGUF loaded in this process)
and `RemoteChatModel` (kgrag.generation.remote, any OpenAI-compatible server).
`open_chat_model` picks one from the settings. Both may be shared by several threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kgrag.core.settings import Settings

Messages = list[dict[str, str]]  # [{"role": "system" | "user" | "assistant", "content": ...}]

REPEAT_PENALTY = 1.15  # small models loop on their own sentences without it


class ChatModel(Protocol):
    """A chat LLM. `chat` is safe to call from several threads at once."""

    @property
    def name(self) -> str:
        """What the model is, for status output (a file name, or model @ URL)."""
        ...

    def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        on_token: Callable[[str], None] | None = None,
        stop: list[str] | None = None,
    ) -> str:
        """The reply to `messages`; with `on_token`, each piece is passed to it as it is
        generated and the reply is the pieces joined. Generation ends before any of the
        `stop` strings (which are not part of the reply)."""
        ...


def open_chat_model(settings: Settings) -> ChatModel:
    """The server at KGRAG_LLM_URL when set, otherwise the local GGUF (KGRAG_LLM_MODEL,
    loaded once per process). Implementations are imported here, not at the top, so
    that importing the protocol loads neither llama.cpp nor httpx."""
    if settings.llm_url:
        from kgrag.generation.remote import RemoteChatModel

        key = settings.llm_api_key
        return RemoteChatModel(
            settings.llm_url,
            model=settings.llm_remote_model,
            api_key=key.get_secret_value() if key else None,
        )
    from kgrag.generation.llm import load_llm, resolve_model_path

    return load_llm(
        str(resolve_model_path(settings.llm_model)),
        settings.llm_n_gpu_layers,
        settings.llm_n_ctx,
        settings.llm_n_threads,
        settings.llm_flash_attn,
    )
