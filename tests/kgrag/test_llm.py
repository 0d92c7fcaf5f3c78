"""LocalLlama: the llama.cpp reply shapes (fake Llama), one load per process, and two
threads sharing the real tiny GGUF without ever generating at the same time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

import kgrag.generation.llm as llm_module
from kgrag.core.settings import Settings
from kgrag.generation.chat_model import REPEAT_PENALTY, open_chat_model
from kgrag.generation.llm import LocalLlama, default_model_path, load_llm
from kgrag.generation.remote import RemoteChatModel

MESSAGES = [{"role": "user", "content": "Hi"}]


class FakeLlama:
    """Mimics `Llama.create_chat_completion` in both its plain and its stream=True shape."""

    def __init__(self, reply: str, pieces: list[str] | None = None) -> None:
        self.reply = reply
        self.pieces = pieces or [reply]
        self.calls: list[dict[str, Any]] = []
        self.stream_closed = False

    def create_chat_completion(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if kwargs.get("stream"):
            return self._stream()
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply}}]}

    def _stream(self) -> Iterator[dict[str, Any]]:
        def chunk(delta: dict[str, str]) -> dict[str, Any]:
            return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}

        try:
            yield chunk({"role": "assistant"})
            for piece in self.pieces:
                yield chunk({"content": piece})
            yield chunk({})
        finally:
            self.stream_closed = True


def test_plain_reply_with_the_sampling_options():
    fake = FakeLlama("Polonium [1].")
    model = LocalLlama(fake, "tiny.gguf")
    assert model.chat(MESSAGES, max_tokens=9, temperature=0.3) == "Polonium [1]."
    assert model.name == "tiny.gguf"
    (call,) = fake.calls
    assert call == {
        "messages": MESSAGES,
        "max_tokens": 9,
        "temperature": 0.3,
        "repeat_penalty": REPEAT_PENALTY,
    }


def test_streamed_pieces_go_to_on_token_and_make_the_reply():
    fake = FakeLlama("", ["Curie", " found", " it"])
    got: list[str] = []
    assert LocalLlama(fake, "x").chat(MESSAGES, max_tokens=9, temperature=0, on_token=got.append)
    assert got == ["Curie", " found", " it"]
    assert fake.calls[0]["stream"] is True and fake.stream_closed


def test_a_stream_left_early_is_closed_and_the_model_is_free_again():
    fake = FakeLlama("", ["a", "b", "c"])
    model = LocalLlama(fake, "x")

    def gone(piece: str) -> None:
        raise ConnectionResetError("the client went away mid-stream")

    with pytest.raises(ConnectionResetError):
        model.chat(MESSAGES, max_tokens=9, temperature=0, on_token=gone)
    assert fake.stream_closed  # under the lock, not later by the garbage collector
    done = threading.Thread(
        target=model.chat, args=(MESSAGES,), kwargs={"max_tokens": 1, "temperature": 0}
    )
    done.start()
    done.join(timeout=5)
    assert not done.is_alive()


def test_load_llm_loads_once_for_threads_asking_together(monkeypatch: pytest.MonkeyPatch):
    opened: list[tuple[Any, ...]] = []

    def slow_open(*key: Any) -> LocalLlama:
        opened.append(key)
        time.sleep(0.2)
        return LocalLlama(FakeLlama("x"), "fake.gguf")

    monkeypatch.setattr(llm_module, "open_llama", slow_open)
    monkeypatch.setattr(llm_module, "_LOADED", {})
    got: list[LocalLlama] = []
    threads = [threading.Thread(target=lambda: got.append(load_llm("/m.gguf"))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened == [("/m.gguf", -1, 4096, None, True)]
    assert len(got) == 3 and got[0] is got[1] is got[2]
    assert load_llm("/m.gguf", n_ctx=512) is not got[0]  # other arguments, other model


def test_open_chat_model_remote_when_llm_url_is_set(tmp_path: Any):
    settings = Settings(
        home=tmp_path,
        llm_url="http://127.0.0.1:8000/v1/",
        llm_remote_model="smol",
        llm_api_key=SecretStr("k"),
    )
    model = open_chat_model(settings)
    assert isinstance(model, RemoteChatModel)
    assert model.name == "smol @ http://127.0.0.1:8000/v1/chat/completions"
    model.close()


def test_open_chat_model_local_by_default(tmp_path: Any, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(llm_module, "_LOADED", {})
    monkeypatch.setattr(llm_module, "open_llama", lambda *key: LocalLlama(FakeLlama("x"), "f"))
    settings = Settings(home=tmp_path, llm_model=str(default_model_path()), llm_n_ctx=1024)
    model = open_chat_model(settings)
    assert isinstance(model, LocalLlama)
    assert open_chat_model(settings) is model  # one model per process, whoever asks


# ---------------------------------------------------------------- real tiny GGUF


class RecordingLlama:
    """A real Llama whose generations record when they start and end (a stream ends when
    its last chunk has been read), to see whether two ever overlap."""

    def __init__(self, llama: Any) -> None:
        self.llama = llama
        self.spans: list[tuple[float, float]] = []

    def create_chat_completion(self, **kwargs: Any) -> Any:
        started = time.perf_counter()
        out = self.llama.create_chat_completion(**kwargs)
        if not kwargs.get("stream"):
            self.spans.append((started, time.perf_counter()))
            return out
        return self._recorded(out, started)

    def _recorded(self, chunks: Iterator[Any], started: float) -> Iterator[Any]:
        for chunk in chunks:
            time.sleep(0.01)  # widen the window a second generation could slip into
            yield chunk
        self.spans.append((started, time.perf_counter()))


@pytest.fixture(scope="module")
def tiny_llama() -> Iterator[Any]:
    from llama_cpp import Llama

    llama = Llama(model_path=str(default_model_path()), n_ctx=1024, n_threads=1, verbose=False)
    yield llama
    llama.close()


@pytest.mark.slow
def test_two_threads_share_the_real_model_one_generation_at_a_time(tiny_llama: Any):
    recording = RecordingLlama(tiny_llama)
    model = LocalLlama(recording, "tiny")
    barrier = threading.Barrier(2)
    pieces: list[str] = []
    replies: dict[str, str] = {}

    def ask(name: str, question: str, stream: bool) -> None:
        barrier.wait()
        replies[name] = model.chat(
            [{"role": "user", "content": question}],
            max_tokens=16,
            temperature=0.0,
            on_token=pieces.append if stream else None,
        )

    threads = [
        threading.Thread(target=ask, args=("streamed", "What is the capital of France?", True)),
        threading.Thread(target=ask, args=("plain", "Name a colour.", False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(replies) == {"streamed", "plain"}
    assert replies["streamed"].strip() and replies["plain"].strip()
    assert len(pieces) >= 2 and "".join(pieces) == replies["streamed"]
    (first, second) = sorted(recording.spans)
    assert first[1] <= second[0], f"generations overlapped: {recording.spans}"


def test_stop_strings_reach_llama_only_when_given():
    fake = FakeLlama("Warsaw")
    model = LocalLlama(fake, "tiny.gguf")
    model.chat(MESSAGES, max_tokens=9, temperature=0.0, stop=["\n"])
    model.chat(MESSAGES, max_tokens=9, temperature=0.0, on_token=lambda _: None, stop=["\n"])
    model.chat(MESSAGES, max_tokens=9, temperature=0.0)
    assert [call.get("stop") for call in fake.calls] == [["\n"], ["\n"], None]


@pytest.mark.slow
def test_the_real_model_stops_at_the_stop_string(tiny_llama: Any):
    model = LocalLlama(tiny_llama, "tiny")
    messages = [{"role": "user", "content": "Write a poem of four lines about the sea."}]
    free = model.chat(messages, max_tokens=64, temperature=0.0)
    assert "\n" in free.strip()  # left alone, it writes several lines
    pieces: list[str] = []
    first_line = model.chat(
        messages, max_tokens=64, temperature=0.0, on_token=pieces.append, stop=["\n"]
    )
    assert first_line.strip() and "\n" not in first_line.strip()
    assert free.strip().startswith(first_line.strip())
    assert "".join(pieces) == first_line
