"""One adapter per official SDK: build its client over a given HTTP client, make a chat call
(plain or streamed) the way its README shows, and read content, finish reason and usage
from what the SDK returns; say whether an exception is the SDK's own HTTP error class and
with which status."""

from __future__ import annotations

from typing import Any

from .support import KEY, Reading, family_is, need

PROMPT = "Hello, world!"
NO_RETRIES = {"max_retries": 0}  # a judge reads one answer; retries only repeat it


def _text(value: Any) -> str:
    """A delta's content: a string, or (Mistral's typed chunks) a list of parts with text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            str(getattr(p, "text", None) or (p.get("text") if isinstance(p, dict) else "") or "") for p in value
        )
    return ""


class Sdk:
    """What every adapter shares: which exception is the SDK's own HTTP error, and where it
    keeps the status."""

    error_module = ""
    error_class = ""
    status_attribute = "status_code"

    def error_type(self) -> type[BaseException]:
        """The SDK's own HTTP error class."""
        error: type[BaseException] = getattr(need(self.error_module), self.error_class)
        return error

    def error_status(self, exc: BaseException) -> int | None:
        module = need(self.error_module)
        return getattr(exc, self.status_attribute) if isinstance(exc, getattr(module, self.error_class)) else None


class OpenAISdk(Sdk):
    name = "openai"
    http_module = "httpx"
    error_module, error_class = "openai", "APIStatusError"
    accepts = staticmethod(family_is("openai-chat"))

    def client(self, http_client: Any, base_url: str | None = None) -> Any:
        openai = need("openai")
        return openai.OpenAI(api_key=KEY, base_url=base_url, http_client=http_client, max_retries=0)

    def call(self, client: Any, model: str, stream: bool) -> Reading:
        messages = [{"role": "user", "content": PROMPT}]
        if not stream:
            r = client.chat.completions.create(model=model, messages=messages)
            u = r.usage
            return Reading(
                _text(r.choices[0].message.content), r.choices[0].finish_reason,
                u.prompt_tokens if u else None, u.completion_tokens if u else None,
            )  # fmt: skip
        parts: list[str] = []
        finish = prompt = completion = None
        for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
            for choice in chunk.choices:
                parts.append(_text(choice.delta.content if choice.delta else None))
                finish = choice.finish_reason or finish
            usage = chunk.usage or (getattr(chunk, "x_groq", None) or {}).get("usage")  # Groq's own place
            if isinstance(usage, dict):
                prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            elif usage:
                prompt, completion = usage.prompt_tokens, usage.completion_tokens
        return Reading("".join(parts), finish, prompt, completion)


class AnthropicSdk(Sdk):
    name = "anthropic"
    http_module = "httpx2"
    error_module, error_class = "anthropic", "APIStatusError"
    accepts = staticmethod(family_is("anthropic-messages"))

    def client(self, http_client: Any, base_url: str | None = None) -> Any:
        anthropic = need("anthropic")
        return anthropic.Anthropic(api_key=KEY, base_url=base_url, http_client=http_client, max_retries=0)

    def call(self, client: Any, model: str, stream: bool) -> Reading:
        messages = [{"role": "user", "content": PROMPT}]
        if not stream:
            r = client.messages.create(model=model, max_tokens=1024, messages=messages)
            text = "".join(b.text for b in r.content if b.type == "text")
            return Reading(text, r.stop_reason, r.usage.input_tokens, r.usage.output_tokens)
        parts: list[str] = []
        finish = prompt = completion = None
        for event in client.messages.create(model=model, max_tokens=1024, messages=messages, stream=True):
            if event.type == "message_start":
                prompt = event.message.usage.input_tokens
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                parts.append(event.delta.text)
            elif event.type == "message_delta":
                finish, completion = event.delta.stop_reason, event.usage.output_tokens
        return Reading("".join(parts), finish, prompt, completion)


class GoogleGenAISdk(Sdk):
    name = "google-genai"
    http_module = "httpx2"
    error_module, error_class = "google.genai.errors", "APIError"
    status_attribute = "code"
    accepts = staticmethod(family_is("gemini"))

    def client(self, http_client: Any, base_url: str | None = None) -> Any:
        genai = need("google.genai")
        types = need("google.genai.types")
        options = types.HttpOptions(httpx_client=http_client, base_url=base_url, retry_options=None)
        return genai.Client(api_key=KEY, http_options=options)

    def call(self, client: Any, model: str, stream: bool) -> Reading:
        def finish_of(r: Any) -> str | None:
            reason = r.candidates[0].finish_reason if r.candidates else None
            return getattr(reason, "value", reason)

        if not stream:
            r = client.models.generate_content(model=model, contents=PROMPT)
            u = r.usage_metadata
            return Reading(r.text or "", finish_of(r), u.prompt_token_count, u.candidates_token_count)
        parts: list[str] = []
        finish = prompt = completion = None
        for r in client.models.generate_content_stream(model=model, contents=PROMPT):
            parts.append(r.text or "")
            finish = finish_of(r) or finish
            if r.usage_metadata:
                prompt = r.usage_metadata.prompt_token_count
                completion = r.usage_metadata.candidates_token_count
        return Reading("".join(parts), finish, prompt, completion)


class CohereSdk(Sdk):
    name = "cohere"
    http_module = "httpx"
    error_module, error_class = "cohere.core.api_error", "ApiError"
    accepts = staticmethod(family_is("cohere-v2"))

    def client(self, http_client: Any, base_url: str | None = None) -> Any:
        cohere = need("cohere")
        kwargs = {"base_url": base_url} if base_url else {}
        return cohere.ClientV2(api_key=KEY, httpx_client=http_client, **kwargs)

    def call(self, client: Any, model: str, stream: bool) -> Reading:
        messages = [{"role": "user", "content": PROMPT}]
        if not stream:
            r = client.chat(model=model, messages=messages, request_options=NO_RETRIES)
            text = "".join(getattr(c, "text", "") or "" for c in r.message.content or [])
            tokens = r.usage.tokens
            return Reading(text, r.finish_reason, tokens.input_tokens, tokens.output_tokens)
        parts: list[str] = []
        finish = prompt = completion = None
        for event in client.chat_stream(model=model, messages=messages, request_options=NO_RETRIES):
            if event.type == "content-delta":
                parts.append(event.delta.message.content.text or "")
            elif event.type == "message-end":
                finish = event.delta.finish_reason
                if event.delta.usage and event.delta.usage.tokens:
                    prompt = event.delta.usage.tokens.input_tokens
                    completion = event.delta.usage.tokens.output_tokens
        return Reading("".join(parts), finish, prompt, completion)


class MistralSdk(Sdk):
    name = "mistralai"
    http_module = "httpx2"
    error_module, error_class = "mistralai.client.errors", "MistralError"

    @staticmethod
    def accepts(provider: str) -> bool:
        return provider == "mistral"

    def client(self, http_client: Any, base_url: str | None = None) -> Any:
        mistralai = need("mistralai.client")
        return mistralai.Mistral(api_key=KEY, client=http_client, server_url=base_url)

    def call(self, client: Any, model: str, stream: bool) -> Reading:
        messages = [{"role": "user", "content": PROMPT}]
        if not stream:
            r = client.chat.complete(model=model, messages=messages)
            u = r.usage
            return Reading(_text(r.choices[0].message.content), r.choices[0].finish_reason,
                           u.prompt_tokens, u.completion_tokens)  # fmt: skip
        parts: list[str] = []
        finish = prompt = completion = None
        for event in client.chat.stream(model=model, messages=messages):
            chunk = event.data
            for choice in chunk.choices:
                parts.append(_text(choice.delta.content))
                finish = choice.finish_reason or finish
            if chunk.usage:
                prompt, completion = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
        return Reading("".join(parts), finish, prompt, completion)


ADAPTERS = [OpenAISdk(), AnthropicSdk(), GoogleGenAISdk(), CohereSdk(), MistralSdk()]
