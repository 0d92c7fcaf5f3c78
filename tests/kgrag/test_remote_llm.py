"""RemoteChatModel: the protocol details against mock replies, then the real thing, a
`python -m llama_cpp.server` with the shipped tiny GGUF on a free local port."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from kgrag.core.errors import KgragError, LLMUnavailableError
from kgrag.core.settings import Settings
from kgrag.core.types import Hit
from kgrag.generation.answer import generate_answer
from kgrag.generation.chat_model import REPEAT_PENALTY
from kgrag.generation.context import build_context
from kgrag.generation.llm import default_model_path
from kgrag.generation.remote import RemoteChatModel, chat_completions_url
from kgrag.runtime import Runtime
from tests.conftest import free_port

MESSAGES = [{"role": "user", "content": "Hi"}]
API_KEY = "test-key"


def _mock(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> tuple[RemoteChatModel, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    model = RemoteChatModel("http://llm.test:8000", transport=httpx.MockTransport(record), **kwargs)
    return model, seen


def _reply(content: str | None) -> httpx.Response:
    return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})


def _sse(*events: str) -> httpx.Response:
    body = "".join(f"{event}\n\n" for event in events)
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


def _chunk(delta: dict[str, str], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return "data: " + json.dumps({"choices": [choice]})


END = [_chunk({}, "stop"), "data: [DONE]"]


def _one_line_error(exc: pytest.ExceptionInfo[LLMUnavailableError], *parts: str) -> str:
    message = str(exc.value)
    assert "\n" not in message and "http://llm.test:8000/v1/chat/completions" in message
    for part in parts:
        assert part in message
    return message


@pytest.mark.parametrize(
    "url",
    [
        "http://h:8000",
        "http://h:8000/",
        "http://h:8000/v1",
        "http://h:8000/v1/",
        "http://h:8000/v1/chat/completions",
    ],
)
def test_the_endpoint_from_server_api_base_or_endpoint(url: str):
    assert chat_completions_url(url) == "http://h:8000/v1/chat/completions"


def test_plain_request_and_reply():
    model, seen = _mock(lambda r: _reply("Paris [1]."), model="smol", api_key="sk-1")
    assert model.chat(MESSAGES, max_tokens=12, temperature=0.2) == "Paris [1]."
    assert _mock(lambda r: _reply(None))[0].chat(MESSAGES, max_tokens=1, temperature=0) == ""
    (request,) = seen
    assert request.url == "http://llm.test:8000/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-1"
    assert json.loads(request.content) == {
        "model": "smol",
        "messages": MESSAGES,
        "max_tokens": 12,
        "temperature": 0.2,
        "stream": False,
        "repeat_penalty": REPEAT_PENALTY,
    }


def test_stop_strings_are_sent_when_given():
    model, seen = _mock(lambda r: _reply("Warsaw"))
    model.chat(MESSAGES, max_tokens=8, temperature=0, stop=["\n"])
    model.chat(MESSAGES, max_tokens=8, temperature=0)
    assert [json.loads(r.content).get("stop") for r in seen] == [["\n"], None]


def test_no_api_key_no_authorization_header():
    model, seen = _mock(lambda r: _reply("x"))
    model.chat(MESSAGES, max_tokens=1, temperature=0)
    assert "authorization" not in seen[0].headers


def test_stream_pieces_skip_comments_roles_and_empty_chunks():
    events = [
        ": ping",
        _chunk({"role": "assistant"}),
        _chunk({"content": "Par"}),
        "event: message\n" + _chunk({"content": "is"}),
        _chunk({}, "length"),
        'data: {"choices": [], "usage": {"completion_tokens": 2}}',
        "data: [DONE]",
    ]
    model, seen = _mock(lambda r: _sse(*events))
    got: list[str] = []
    assert model.chat(MESSAGES, max_tokens=5, temperature=0, on_token=got.append) == "Paris"
    assert got == ["Par", "is"]
    assert json.loads(seen[0].content)["stream"] is True


def test_a_server_rejecting_repeat_penalty_is_asked_again_without_it():
    def handler(request: httpx.Request) -> httpx.Response:
        if "repeat_penalty" in json.loads(request.content):
            message = "Unrecognized request argument supplied: repeat_penalty"
            return httpx.Response(400, json={"error": {"message": message}})
        return _reply("ok")

    model, seen = _mock(handler)
    assert model.chat(MESSAGES, max_tokens=1, temperature=0) == "ok"
    assert model.chat(MESSAGES, max_tokens=1, temperature=0) == "ok"
    sent = [json.loads(r.content) for r in seen]
    assert ["repeat_penalty" in body for body in sent] == [True, False, False]


@pytest.mark.parametrize(
    ("response", "parts"),
    [
        (httpx.Response(500, text="CUDA out of memory\n  at line 3"), ["HTTP 500", "CUDA out"]),
        (httpx.Response(401, json={"detail": "bad key"}), ["HTTP 401", "KGRAG_LLM_API_KEY"]),
        (httpx.Response(400, json={"error": "context too long"}), ["HTTP 400", "too long"]),
        (httpx.Response(200, text="<html>proxy page</html>"), ["unexpected reply", "proxy"]),
        (httpx.Response(200, json={"error": "model not loaded"}), ["unexpected reply"]),
    ],
)
def test_error_replies_are_one_line_errors(response: httpx.Response, parts: list[str]):
    model, _ = _mock(lambda r: response)
    with pytest.raises(LLMUnavailableError) as exc:
        model.chat(MESSAGES, max_tokens=1, temperature=0)
    _one_line_error(exc, *parts)


@pytest.mark.parametrize(
    ("events", "parts"),
    [
        ([_chunk({"content": "a"}), _chunk({}, "stop")], ["ended before data: [DONE]"]),
        ([_chunk({"content": "a"}), "data: [DONE]"], ["cut short", "--interrupt_requests"]),
        ([_chunk({"content": "a"}), 'data: {"error": {"message": "boom"}}'], ["boom"]),
        (["data: {not json"], ["unexpected reply", "{not json"]),
    ],
)
def test_broken_streams_are_one_line_errors(events: list[str], parts: list[str]):
    model, _ = _mock(lambda r: _sse(*events))
    with pytest.raises(LLMUnavailableError) as exc:
        model.chat(MESSAGES, max_tokens=1, temperature=0, on_token=lambda piece: None)
    _one_line_error(exc, *parts)


def test_a_timeout_is_a_one_line_error():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    model, _ = _mock(slow)
    with pytest.raises(LLMUnavailableError) as exc:
        model.chat(MESSAGES, max_tokens=1, temperature=0)
    _one_line_error(exc, "timed out (ReadTimeout)")


def test_an_error_in_on_token_is_not_blamed_on_the_server():
    model, _ = _mock(lambda r: _sse(_chunk({"content": "a"}), *END))

    def broken(piece: str) -> None:
        raise ValueError("caller bug")

    with pytest.raises(ValueError, match="caller bug"):
        model.chat(MESSAGES, max_tokens=1, temperature=0, on_token=broken)


# ---------------------------------------------------------------- real llama_cpp.server


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` with the tiny GGUF and an API key; its base URL.

    `--interrupt_requests False`: by default the server cuts a stream short (with a clean
    `[DONE]`) as soon as another request waits, which concurrent users must not get."""
    port = free_port()
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(default_model_path()),
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_threads", "1",
        "--api_key", API_KEY, "--interrupt_requests", "False", "--verbose", "False",
    ]  # fmt: skip
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, url, log)
        yield url
    finally:
        server.terminate()  # this server's own PID
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            headers = {"Authorization": f"Bearer {API_KEY}"}
            if httpx.get(f"{url}/v1/models", headers=headers, timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"llama_cpp.server did not answer in 40 s: {log.read_text()[-2000:]}")


@pytest.fixture
def remote(llm_server: str) -> Iterator[RemoteChatModel]:
    model = RemoteChatModel(f"{llm_server}/v1", api_key=API_KEY)
    yield model
    model.close()


QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.mark.slow
def test_real_server_plain_and_streamed(remote: RemoteChatModel):
    plain = remote.chat(QUESTION, max_tokens=16, temperature=0.0)
    assert plain.strip()
    pieces: list[str] = []
    streamed = remote.chat(QUESTION, max_tokens=16, temperature=0.0, on_token=pieces.append)
    assert len(pieces) >= 2 and "".join(pieces) == streamed and streamed.strip()
    assert remote._send_repeat_penalty  # llama.cpp's server took it


@pytest.mark.slow
def test_real_server_answers_a_question_with_citations(remote: RemoteChatModel):
    hits = [
        Hit("c1", 0.9, "dense", "d1", "Marie Curie discovered polonium in 1898.", "/c.md", "C"),
        Hit("c2", 0.5, "dense", "d2", "Radium glows in the dark.", "/r.md", "R"),
    ]
    context = build_context(hits, [], budget_tokens=500)
    got: list[str] = []
    answer = generate_answer(
        "Who discovered polonium?", "en", context, remote,
        max_tokens=24, temperature=0.0, on_token=got.append,
    )  # fmt: skip
    assert answer.text and answer.text == "".join(got).strip()
    assert answer.refused or {c.n for c in answer.citations} <= {1, 2}
    assert answer.timings["generate_ms"] > 0


@pytest.mark.slow
def test_runtime_uses_the_server_of_llm_url(llm_server: str, tmp_path: Path):
    settings = Settings(home=tmp_path, llm_url=llm_server, llm_api_key=SecretStr(API_KEY))
    model = Runtime(settings, "default").llm
    assert isinstance(model, RemoteChatModel)
    assert model.chat(QUESTION, max_tokens=4, temperature=0.0).strip()
    model.close()


@pytest.mark.slow
def test_real_server_two_threads_both_complete(remote: RemoteChatModel):
    barrier = threading.Barrier(2)
    replies: dict[bool, str] = {}
    pieces: list[str] = []

    def ask(stream: bool) -> None:
        barrier.wait()
        on_token = pieces.append if stream else None
        replies[stream] = remote.chat(QUESTION, max_tokens=16, temperature=0.0, on_token=on_token)

    threads = [threading.Thread(target=ask, args=(stream,)) for stream in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert replies[True].strip() and replies[False].strip()
    assert "".join(pieces) == replies[True]


@pytest.mark.slow
def test_real_server_wrong_key_and_dead_url_are_one_line_errors(llm_server: str):
    wrong = RemoteChatModel(llm_server, api_key="nope")
    with pytest.raises(LLMUnavailableError, match=re.escape("HTTP 401 (check KGRAG_LLM_API_KEY)")):
        wrong.chat(QUESTION, max_tokens=4, temperature=0.0)
    wrong.close()
    dead_url = f"http://127.0.0.1:{free_port()}"
    dead = RemoteChatModel(dead_url)
    for on_token in (None, print):
        with pytest.raises(KgragError) as exc:
            dead.chat(QUESTION, max_tokens=4, temperature=0.0, on_token=on_token)
        message = str(exc.value)
        assert isinstance(exc.value, LLMUnavailableError) and "\n" not in message
        assert message.startswith(f"LLM server {dead_url}/v1/chat/completions (KGRAG_LLM_URL): ")
        assert "refused" in message.lower()
    dead.close()
