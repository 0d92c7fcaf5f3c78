"""`RemoteChatModel`: an OpenAI-compatible chat completions server as the LLM.

Works with llama.cpp's `python -m llama_cpp.server` and `llama-server`, vLLM, and other
servers of `POST /v1/chat/completions`. Streaming uses server-sent events: lines
`data: {json chunk}`, ending with `data: [DONE]`.

`repeat_penalty` (which the local model uses) is sent too: llama.cpp servers apply it and
most others ignore unknown fields. A server that rejects it (HTTP 400/422 naming it, as
api.openai.com does) gets the request again without it, and never again from this object.

A stream that reaches `[DONE]` without a `finish_reason` was cut short, and is an error
rather than a silently truncated answer. `python -m llama_cpp.server` does that to a
stream as soon as another request waits, unless started with `--interrupt_requests False`,
which it needs when several users share it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from kgrag.core.errors import LLMUnavailableError
from kgrag.generation.chat_model import REPEAT_PENALTY, Messages

CONNECT_TIMEOUT_S = 5.0  # a server that is down fails fast
# Per network read: the whole generation for a plain reply, the wait between pieces of a
# stream. Generous, since a busy server queues requests before starting on them.
READ_TIMEOUT_S = 300.0
MAX_DETAIL_CHARS = 200


class _FieldRejected(Exception):
    """The server refused `repeat_penalty` (internal: the request is sent without it)."""


class _BadReply(Exception):
    """The server's answer is not the JSON of the API (internal: reported as unavailable)."""


def chat_completions_url(url: str) -> str:
    """The endpoint for KGRAG_LLM_URL given as the server (`http://host:8000`), its API
    base (`http://host:8000/v1`, as OpenAI clients take it) or the endpoint itself."""
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    return f"{url}/chat/completions" if url.endswith("/v1") else f"{url}/v1/chat/completions"


def _one_line(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RemoteChatModel:
    """A `ChatModel` served over HTTP. Calls from several threads run concurrently (one
    pooled `httpx.Client`, which may be shared between threads); whether the server
    generates them in parallel or queues them is the server's business."""

    def __init__(
        self,
        url: str,
        *,
        model: str = "kgrag",
        api_key: str | None = None,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`transport`: httpx's default (TCP) unless given, e.g. a Unix socket's or a mock."""
        self.endpoint = chat_completions_url(url)
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=timeout or httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
            transport=transport,
        )
        self._send_repeat_penalty = True

    @property
    def name(self) -> str:
        return f"{self.model} @ {self.endpoint}"

    def chat(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        on_token: Callable[[str], None] | None = None,
        stop: list[str] | None = None,
    ) -> str:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": on_token is not None,
        }
        if stop:
            body["stop"] = stop
        if self._send_repeat_penalty:
            try:
                return self._post({**body, "repeat_penalty": REPEAT_PENALTY}, on_token)
            except _FieldRejected:
                self._send_repeat_penalty = False
        return self._post(body, on_token)

    def close(self) -> None:
        self._client.close()

    def _post(self, body: dict[str, Any], on_token: Callable[[str], None] | None) -> str:
        try:
            with self._client.stream("POST", self.endpoint, json=body) as response:
                if response.is_error:
                    raise self._http_error(response, body)
                if on_token is None:
                    return _reply_text(response.read())
                pieces: list[str] = []
                for piece in _stream_pieces(response.iter_lines()):
                    pieces.append(piece)
                    on_token(piece)
                return "".join(pieces)
        except httpx.TimeoutException as exc:
            raise self._unavailable(f"timed out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise self._unavailable(_one_line(str(exc)) or type(exc).__name__) from None
        except _BadReply as exc:
            raise self._unavailable(f"unexpected reply: {exc}") from None

    def _http_error(self, response: httpx.Response, body: dict[str, Any]) -> Exception:
        response.read()
        detail = _one_line(response.text)
        if (
            "repeat_penalty" in body
            and response.status_code in (400, 422)
            and "repeat_penalty" in response.text
        ):
            return _FieldRejected()
        hint = " (check KGRAG_LLM_API_KEY)" if response.status_code in (401, 403) else ""
        return self._unavailable(f"HTTP {response.status_code}{hint}: {detail}")

    def _unavailable(self, reason: str) -> LLMUnavailableError:
        return LLMUnavailableError(f"LLM server {self.endpoint} (KGRAG_LLM_URL): {reason}")


def _reply_text(raw: bytes) -> str:
    try:
        return str(json.loads(raw)["choices"][0]["message"]["content"] or "")
    except (ValueError, LookupError, TypeError) as exc:
        raise _BadReply(_one_line(raw.decode(errors="replace")) or repr(exc)) from None


def _stream_pieces(lines: Iterator[str]) -> Iterator[str]:
    """The text pieces of an SSE chat completion stream, up to `data: [DONE]`. Comments,
    other fields and chunks without text (the role, the finish reason, usage) are skipped.
    An error sent mid-stream, or a stream ended before its `finish_reason` or before
    `[DONE]`, is a `_BadReply`."""
    finished = False
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            if not finished:
                raise _BadReply(
                    "the stream was cut short (no finish_reason); a llama_cpp.server "
                    "shared by several users needs --interrupt_requests False"
                )
            return
        try:
            chunk = json.loads(data)
            if "error" in chunk:
                raise _BadReply(_one_line(f"error in stream: {chunk['error']}"))
            choices = chunk.get("choices") or []
            pieces = [(c.get("delta") or {}).get("content") for c in choices]
            finished = finished or any(c.get("finish_reason") for c in choices)
        except (ValueError, LookupError, TypeError, AttributeError):
            raise _BadReply(_one_line(data)) from None
        yield from (piece for piece in pieces if piece)
    raise _BadReply("the stream ended before data: [DONE]")
