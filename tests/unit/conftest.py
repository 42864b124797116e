"""Fixtures for the ailib unit tests: mock HTTP, a planted API key, a fake clock.

Every test talks to an ``httpx.MockTransport``; nothing reaches the network and no
test sleeps for real (retries run on :class:`FakeClock`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ailib import AiClient, RetryPolicy

from .unit_support import PLANTED_KEY, FakeClock, Server

#: Environment variables the reference manifests read keys or paths from.
KEY_ENV_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "COHERE_API_KEY",
    "CO_API_KEY",
    "AILIB_MANIFESTS_DIR",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real keys or manifest directory."""
    for name in KEY_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock):
    """``await make_client("openai/gpt-4o", answers, **create_kwargs) -> (client, server)``.

    The client carries the planted key and a retry policy on the fake clock with
    jitter pinned to 1.0, so each wait is exactly the documented backoff.
    """

    async def make(model: str, answers: Any, *, max_retries: int = 2, **kwargs: Any) -> tuple[AiClient, Server]:
        server = Server(answers)
        kwargs.setdefault("api_key", PLANTED_KEY)
        client = await AiClient.create(
            model,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(server)),
            max_retries=max_retries,
            **kwargs,
        )
        client.retry_policy = RetryPolicy(max_retries=max_retries, sleep=clock.sleep, random=lambda: 1.0)
        return client, server

    return make
