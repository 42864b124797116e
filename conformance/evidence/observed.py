"""Real traffic as a judge (``--observed DIR``, default ``../shared/realworld``).

Each recording is one real HTTP interaction recorded by another public project, with a
hand-checked ``expected`` block (see the directory's README). Two judgements per provider:

- :func:`replay`: the recorded answer is served to the client (an ``httpx.MockTransport``)
  and what the client reports is compared with ``expected``: text, raw finish reason, token
  counts, the error and its provider message;
- :func:`fact_problems`: the provider facts the recording shows, compared with the manifest:
  done marker present or not, reasoning field names, error message location, parameters the
  provider accepted with a 2xx (a capability declared unsupported, or a value outside the
  declared range, is contradicted).

:func:`observed_facts` extracts the same facts for the provider-facts page (usage placement,
text in the first or finish chunk, CRLF framing, ...). The recordings are read, never copied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Default location of the recordings: ``../shared/realworld`` beside the project root.
DEFAULT_OBSERVED_DIR = Path(__file__).resolve().parents[3] / "shared" / "realworld"

#: Recording provider ids -> manifest ids; ``True`` when the recorded base URL is used
#: (regional or alternative endpoints: the manifest's default host is not what was called).
RECORDING_PROVIDERS: dict[str, tuple[str, bool]] = {
    "openai": ("openai", False),
    "anthropic": ("anthropic", False),
    "google-gemini": ("gemini", False),
    "deepseek": ("deepseek", False),
    "groq": ("groq", False),
    "mistral": ("mistral", False),
    "cohere": ("cohere", False),
    "perplexity": ("perplexity", False),
    "xai": ("xai", False),
    "zai-zhipu": ("zhipu", True),
    "cerebras": ("cerebras", False),
    "openrouter": ("openrouter", False),
    "together": ("together", True),
    "azure-openai": ("azure", True),
    "writer": ("writer", False),
}

#: The OpenAI-style body fields of the four chat parameters, for "accepted with a 2xx".
_PARAMETER_FIELDS = {
    "temperature": ("temperature", "generationConfig.temperature"),
    "top_p": ("top_p", "generationConfig.topP", "p"),
    "max_tokens": ("max_tokens", "max_completion_tokens", "generationConfig.maxOutputTokens"),
    "stop": ("stop", "stop_sequences", "generationConfig.stopSequences"),
}


#: What a raw finish reason means in the common vocabulary, written by hand from the
#: providers' references (OpenAI finish_reason, Anthropic stop_reason, Gemini FinishReason,
#: Cohere finish_reason, Together "eos"): independent of any manifest's table.
STANDARD_FINISH = {
    "stop": "stop",
    "eos": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "STOP": "stop",
    "COMPLETE": "stop",
    "1": "stop",
    "length": "length",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "model_length": "length",
    "tool_calls": "tool_calls",
    "tool_use": "tool_calls",
    "TOOL_CALL": "tool_calls",
    "content_filter": "content_filter",
    "SAFETY": "content_filter",
}


def observed_dir_status(directory: Path | None) -> str | None:
    if directory is None:
        return "no recordings directory (--observed empty, or not given and ../shared/realworld does not exist)"
    if not directory.is_dir():
        return f"--observed {directory} does not exist"
    if not any(directory.glob("*.json")):
        return f"--observed {directory} holds no recordings (*.json)"
    return None


@dataclass(frozen=True)
class Recording:
    file: str
    provider: str  # manifest id
    use_base: bool
    data: dict[str, Any] = field(repr=False, hash=False, compare=False)

    @property
    def streaming(self) -> bool:
        return bool(self.data.get("streaming"))

    @property
    def status(self) -> int:
        return int(self.data["response"]["status"])

    @property
    def body(self) -> str:
        return str(self.data["response"]["body_text"])

    @property
    def expected(self) -> dict[str, Any]:
        return self.data.get("expected") or {}

    @property
    def request_body(self) -> dict[str, Any]:
        body = (self.data.get("request") or {}).get("body")
        return body if isinstance(body, dict) else {}


@lru_cache(maxsize=4)
def load_recordings(directory: str) -> tuple[Recording, ...]:
    """Every recording of a provider with a manifest, in file order."""
    out = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        mapped = RECORDING_PROVIDERS.get(str(data.get("provider")))
        if mapped is None or "response" not in data:
            continue
        out.append(Recording(path.name, mapped[0], mapped[1], data))
    return tuple(out)


def recordings_of(directory: Path | None, provider: str) -> list[Recording]:
    if directory is None or observed_dir_status(directory):
        return []
    return [r for r in load_recordings(str(directory)) if r.provider == provider]


def out_of_scope(rec: Recording) -> str | None:
    """Why the client cannot replay ``rec`` as recorded, or None: a request for several
    choices (``n`` > 1) interleaves answers the chat API has no way to ask for."""
    n = rec.request_body.get("n")
    if isinstance(n, int) and n > 1:
        return f"the request asked for n={n} choices, which the chat API cannot send"
    return None


# --- replaying through the client --------------------------------------------------------


@dataclass
class Replay:
    content: str = ""
    raw_finish: str | None = None
    finish: str | None = None
    usage: dict[str, int | None] = field(default_factory=dict)
    error: Any = None
    crash: str | None = None
    sent: list[Any] = field(default_factory=list)


def _model_and_base(rec: Recording) -> tuple[str, str | None]:
    req = rec.data.get("request") or {}
    url = req.get("url") or ""
    model = rec.request_body.get("model") or rec.data.get("model") or ""
    if not model and "/models/" in url:
        model = url.split("/models/", 1)[1].split(":", 1)[0]
    if not model:
        for line in rec.body.splitlines():
            text = line[5:].strip() if line.startswith("data:") else line.strip()
            if text.startswith("{"):
                try:
                    model = json.loads(text).get("model") or ""
                except ValueError:
                    continue
                if model:
                    break
    model = str(model or "test-model").replace("%3A", ":").removeprefix("models/")
    base = None
    if rec.use_base and url:
        parts = urlsplit(url)
        path = parts.path
        for tail in ("/chat/completions", "/messages", "/chat"):
            if path.endswith(tail):
                path = path[: -len(tail)]
                break
        base = f"{parts.scheme}://{parts.netloc}{path}"
    return model, base


async def _replay(rec: Recording, manifests_dir: str | None) -> Replay:
    import httpx

    from ailib import AiClient
    from ailib.errors import AiLibError

    out = Replay()
    response = rec.data["response"]
    ctype = (response.get("headers") or {}).get("content-type") or "application/json"

    def handler(request: httpx.Request) -> httpx.Response:
        out.sent.append(request)
        return httpx.Response(rec.status, headers={"content-type": ctype}, content=rec.body.encode("utf-8"))

    model, base = _model_and_base(rec)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    try:
        client = await AiClient.create(
            f"{rec.provider}/{model}",
            api_key="observed-replay-key",
            http_client=http,
            base_url=base,
            max_retries=0,
            manifests_dir=manifests_dir,
        )
        builder = client.chat().user("Hello")
        if rec.streaming:
            async for event in builder.stream():
                if event.is_content_delta:
                    out.content += event.as_content_delta.text or ""
                elif event.kind == "usage":
                    usage = event.as_usage
                    out.usage = {
                        "prompt_tokens": usage.prompt_tokens,
                        "completion_tokens": usage.completion_tokens,
                        "total_tokens": usage.total_tokens,
                        "reasoning_tokens": usage.reasoning_tokens,
                    }
                elif event.kind == "finish":
                    out.raw_finish = event.as_finish.raw_reason
                    out.finish = event.as_finish.reason
        else:
            answer, stats = await builder.execute_with_stats()
            out.content = answer.content or ""
            out.raw_finish = answer.raw_finish_reason
            out.finish = answer.finish_reason
            out.usage = {
                "prompt_tokens": stats.prompt_tokens,
                "completion_tokens": stats.completion_tokens,
                "total_tokens": stats.total_tokens,
                "reasoning_tokens": stats.reasoning_tokens,
            }
    except AiLibError as exc:
        out.error = exc
    except Exception as exc:
        out.crash = f"{type(exc).__name__}: {str(exc)[:160]}"
    finally:
        await http.aclose()
    return out


def run_replay(rec: Recording, manifests_dir: str | None = None) -> Replay:
    from ..runner import run_async

    return run_async(_replay(rec, manifests_dir))


def replay(rec: Recording, manifests_dir: str | None = None) -> list[str]:
    """Problems with what the client reports for ``rec``, judged by its ``expected`` block."""
    where = f"{rec.provider}: recording {rec.file}"
    if out_of_scope(rec):
        return []
    got = run_replay(rec, manifests_dir)
    if got.crash:
        return [f"{where}: the client crashed: {got.crash}"]
    exp = rec.expected
    problems: list[str] = _request_problems(rec, got, where)
    stream_error = exp.get("stream_error")
    if rec.status >= 400 or stream_error:
        if got.error is None:
            return [f"{where}: expected an error (HTTP {rec.status}), the client reported none"]
        if rec.status >= 400 and getattr(got.error, "status_code", None) != rec.status:
            problems.append(f"{where}: error.status_code={got.error.status_code!r}, recorded status {rec.status}")
        message = exp.get("error_message") or (stream_error or {}).get("message")
        # The provider's own message, first: not buried in a dump of the body (a wrong
        # message path falls back to the raw body text, which still *contains* it).
        if message and not str(got.error).startswith(str(message)[:40]):
            problems.append(
                f"{where}: error message {str(got.error)[:60]!r} does not lead with the provider's text {str(message)[:40]!r}"
            )
        return problems
    if got.error is not None:
        return [f"{where}: unexpected {type(got.error).__name__}: {str(got.error)[:160]}"]
    if exp.get("content") is not None and got.content != exp["content"]:
        problems.append(f"{where}: content {got.content[:50]!r} != recorded {str(exp['content'])[:50]!r}")
    raw = exp.get("finish_reason")
    if raw is not None and str(got.raw_finish) != str(raw):
        problems.append(f"{where}: raw finish reason {got.raw_finish!r} != recorded {raw!r}")
    meaning = STANDARD_FINISH.get(str(raw))
    if raw is not None and meaning and got.finish != meaning:
        problems.append(f"{where}: finish reason {raw!r} normalised to {got.finish!r}, it means {meaning!r}")
    for name in ("prompt_tokens", "completion_tokens", "total_tokens", "reasoning_tokens"):
        want = exp.get(name)
        if want is not None and got.usage.get(name) != want:
            problems.append(f"{where}: {name}={got.usage.get(name)!r}, the provider reported {want}")
    return problems


def _request_problems(rec: Recording, got: Replay, where: str) -> list[str]:
    """The request the client sent against the one the recording shows was answered: the
    endpoint (host and path) and the stream flag's effect (a stream call must stream)."""
    url = (rec.data.get("request") or {}).get("url")
    if not url or not got.sent:
        return []
    sent = got.sent[0].url
    want = urlsplit(url)
    problems = []
    if not rec.use_base and (sent.host or "").lower() != (want.hostname or "").lower():
        problems.append(f"{where}: request sent to host {sent.host}, the provider answered at {want.hostname}")
    recorded_path = want.path.replace("%3A", ":").replace("%3a", ":")
    sent_path = sent.path.replace("%3A", ":")
    # A provider may serve the same endpoint under several prefixes (DeepSeek's /v1 and /beta):
    # one path must end with the other.
    if recorded_path and not (recorded_path.endswith(sent_path) or sent_path.endswith(recorded_path)):
        problems.append(f"{where}: request path {sent_path}, the provider answered at {recorded_path}")
    return problems


# --- facts the recording shows -----------------------------------------------------------


def _data_lines(body: str) -> list[str]:
    return [line[5:].strip() for line in body.splitlines() if line.startswith("data:")]


def _json_chunks(body: str) -> list[dict[str, Any]]:
    out = []
    for text in _data_lines(body):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def _dig(obj: Any, dotted: str) -> Any:
    """Value at a dotted path, or None."""
    from ..contract import MISSING, dig

    found = dig(obj, dotted)
    return None if found is MISSING else found


_REASONING_FIELDS = ("reasoning_content", "reasoning")


def observed_facts(rec: Recording) -> dict[str, Any]:
    """The provider facts one recording shows (None where it shows nothing)."""
    facts: dict[str, Any] = {"file": rec.file}
    body = rec.body
    sse = rec.streaming and rec.status < 400 and "data:" in body
    if sse:
        lines = _data_lines(body)
        facts["done_marker"] = "[DONE]" in lines
        facts["crlf"] = "\r\n" in body
        chunks = _json_chunks(body)
        with_usage = [i for i, c in enumerate(chunks) if isinstance(c.get("usage"), dict)]
        finish_at = [i for i, c in enumerate(chunks) if _dig(c, "choices.0.finish_reason")]
        if with_usage:
            if len(with_usage) == len(chunks):
                facts["usage_placement"] = "every chunk"
            elif finish_at and with_usage == finish_at[-1:]:
                facts["usage_placement"] = "finish chunk"
            else:
                facts["usage_placement"] = "own chunk"
        asked = bool(_dig(rec.request_body, "stream_options.include_usage"))
        facts["usage_requested"] = asked
        texts = [i for i, c in enumerate(chunks) if _dig(c, "choices.0.delta.content")]
        facts["text_in_first_chunk"] = bool(texts) and texts[0] == 0
        facts["text_in_finish_chunk"] = bool(texts and finish_at) and finish_at[-1] in texts
        for name in _REASONING_FIELDS:
            if any(_dig(c, f"choices.0.delta.{name}") for c in chunks):
                facts["reasoning_field"] = f"delta.{name}"
                break
    elif rec.status < 400:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        for name in _REASONING_FIELDS:
            if isinstance(data, dict) and _dig(data, f"choices.0.message.{name}"):
                facts["reasoning_field"] = f"message.{name}"
                break
    if rec.status >= 400:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        facts["error_shape"] = _shape(data)
    accepted = {}
    if rec.status < 400:
        for name, fields in _PARAMETER_FIELDS.items():
            for dotted in fields:
                value = _dig(rec.request_body, dotted)
                if value is not None:
                    accepted[name] = (dotted, value)
                    break
    facts["accepted"] = accepted
    return facts


def _shape(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    inner = data.get("error")
    if isinstance(inner, dict):
        return "{error: {" + ", ".join(sorted(inner)) + "}}"
    return "{" + ", ".join(sorted(data)) + "}"


def _usage_problems(rec: Recording, manifest: Any, facts: dict[str, Any], where: str, ended: bool) -> list[str]:
    """Usage that arrived in a stream nobody asked for usage in contradicts a manifest that
    declares usage in streams unsupported. (One stream without usage proves nothing: the same
    provider may send it for other models, as Together's recordings show.)"""
    if not (ended and rec.streaming and rec.status < 400 and "usage_requested" in facts):
        return []
    if (
        "usage_placement" in facts
        and not facts["usage_requested"]
        and not manifest.capability("usage_in_stream").supported
    ):
        text = (
            f"{where}: usage arrived in the stream unasked ({facts['usage_placement']}), "
            "the manifest declares usage_in_stream unsupported"
        )
        return [text]
    return []


def fact_problems(rec: Recording, manifest: Any) -> list[str]:
    """Where the manifest contradicts what ``rec`` shows, each naming the recording."""
    where = f"{manifest.id}: recording {rec.file}"
    facts = observed_facts(rec)
    problems: list[str] = []
    declared_done = manifest.stream.done_marker
    ended_normally = not rec.expected.get("stream_error")
    if "done_marker" in facts and ended_normally and manifest.capability("streaming").supported:
        if facts["done_marker"] and not declared_done:
            problems.append(f"{where}: the stream ends with data: [DONE], the manifest declares no done marker")
        if not facts["done_marker"] and declared_done:
            problems.append(
                f"{where}: the stream ends without a done marker, the manifest declares done_marker {declared_done!r}"
            )
    problems += _usage_problems(rec, manifest, facts, where, ended_normally)
    seen_field = facts.get("reasoning_field")
    if seen_field:
        routes = getattr(manifest, "data", {}).get("stream", {}).get("routes", {}) or {}
        declared = (routes.get("*") or {}).get("reasoning") if seen_field.startswith("delta.") else None
        if seen_field.startswith("message."):
            declared = (getattr(manifest, "data", {}).get("response") or {}).get("reasoning")
        names = declared if isinstance(declared, list) else [declared] if declared else []
        last = seen_field.split(".", 1)[1]
        if names and not any(str(n).rsplit(".", 1)[-1] == last for n in names):
            problems.append(
                f"{where}: reasoning text arrives in {seen_field}, the manifest reads {', '.join(map(str, names))}"
            )
    for name, (dotted, value) in facts.get("accepted", {}).items():
        cap = manifest.capability(name)
        if not cap.supported:
            problems.append(
                f"{where}: the provider accepted {dotted}={value!r} with HTTP {rec.status}, "
                f"the manifest declares {name} unsupported"
            )
            continue
        param = manifest.parameters.get(name)
        if param is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if (param.min is not None and value < param.min) or (param.max is not None and value > param.max):
            problems.append(
                f"{where}: the provider accepted {dotted}={value!r} with HTTP {rec.status}, "
                f"outside the manifest's range [{param.min}, {param.max}] for {name}"
            )
    return problems


def facts_file_problems(rec: Recording) -> list[str]:
    """The judge's own facts (evidence/facts/<id>.yaml) against what ``rec`` shows: a facts
    file is evidence only while real traffic agrees with it."""
    from .facts import load_facts

    facts = load_facts().get(rec.provider) or {}
    if facts.get("family") != "openai-chat":
        return []
    shown = observed_facts(rec)
    if "done_marker" not in shown or rec.expected.get("stream_error"):
        return []
    says_none = "no_done_marker" in (facts.get("quirks") or [])
    if shown["done_marker"] == says_none:
        return [
            f"{rec.provider}: recording {rec.file}: the stream "
            + ("ends with data: [DONE]" if shown["done_marker"] else "ends without data: [DONE]")
            + f", but evidence/facts/{rec.provider}.yaml says {'no_done_marker' if says_none else 'it does'}"
        ]
    return []
