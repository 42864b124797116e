"""Out-of-process runtimes (conformance/runtimes/process_runtime.py) and the ai-lib-ts adapter.

The JSON-lines protocol and the loopback replay proxy are tested with a driver written in
Python here (so they are tested where Node is absent); the ai-lib-ts tests need Node 18+
and npm and skip with the reason where they are missing. What ai-lib-ts does is written by
hand from its source (../shared/runtimes/ai-lib-ts), never read from a run.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from conformance.runtimes.base import Call
from conformance.runtimes.process_runtime import ProcessRuntime

ROOT = Path(__file__).resolve().parents[2]
#: Plugins the suite runs below do not use: not loading them saves ~1.5 s of CPU per run.
QUIET_PLUGINS = ["-p", "no:xdist", "-p", "no:cov", "-p", "no:hypothesispytest"]

# A third-party driver in a few lines: POSTs the conversation through the proxy, answers content.
FAKE_DRIVER = textwrap.dedent(
    """
    import json, sys, urllib.request, urllib.error
    for line in sys.stdin:
        req = json.loads(line)
        body = json.dumps({"model": req["model"], "messages": req["messages"]}).encode()
        url = req["proxy"] + "/https/api.example.com/v1/chat?x=1"
        http = urllib.request.Request(url, data=body, method="POST",
                                      headers={"Authorization": "Bearer " + req["api_key"], "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(http, timeout=10) as r:
                outcome = {"content": json.loads(r.read())["text"], "events": []}
        except urllib.error.HTTPError as e:
            outcome = {"error": {"type": "HTTPError", "code": "E2001", "status_code": e.code, "message": e.read().decode()}}
        print(json.dumps({"id": req["id"], "outcome": outcome, "waits": [0.5]}), flush=True)
    """
)


class FakeRuntime(ProcessRuntime):
    name = "fake-process"

    def __init__(self, script: Path) -> None:
        super().__init__()
        self.script = script

    def command(self) -> list[str]:
        return [sys.executable, str(self.script)]


def test_driver_requests_reach_the_suites_client_at_the_original_url(tmp_path: Path) -> None:
    script = tmp_path / "driver.py"
    script.write_text(FAKE_DRIVER, encoding="utf-8")
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(200, json={"text": "hello from the recording"})
        return httpx.Response(429, json={"error": "slow down"})

    def client() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(answer))

    runtime = FakeRuntime(script)
    call = Call("example", "m-1", "sk-test", [("user", "Hi")], {}, "execute", http_client=client)

    async def both() -> tuple:
        try:
            return await runtime.run(call), await runtime.run(call)
        finally:
            if runtime.process is not None:
                runtime.process.kill()
                await runtime.process.wait()

    first, second = asyncio.run(both())
    assert first.content == "hello from the recording" and first.error is None
    assert str(seen[0].url) == "https://api.example.com/v1/chat?x=1"
    assert seen[0].headers["authorization"] == "Bearer sk-test"
    assert json.loads(seen[0].content) == {"model": "m-1", "messages": [["user", "Hi"]]}
    # errors come back typed: E2001 is rate_limited in the AI-Protocol table
    assert (second.error.status_code, second.error.error_class) == (429, "rate_limited")
    assert call.waits == [0.5, 0.5]


def test_a_driver_that_dies_is_an_error_not_a_hang(tmp_path: Path) -> None:
    script = tmp_path / "driver.py"
    script.write_text("import sys; sys.stdin.readline(); sys.exit(3)\n", encoding="utf-8")
    runtime = FakeRuntime(script)
    call = Call("example", "m", "k", [("user", "Hi")], {}, "execute")
    outcome = asyncio.run(runtime.run(call))
    assert outcome.error is not None and "driver exited" in outcome.error.message


# --- ai-lib-ts ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ai_lib_ts() -> object:
    from conformance.runtimes.ai_lib_ts_runtime import AiLibTsRuntime

    runtime = AiLibTsRuntime()
    reason = runtime.unavailable()
    if reason:
        pytest.skip(f"ai-lib-ts cannot run here: {reason}")
    return runtime


def _run_suite(tmp_path: Path, selection: str) -> dict[str, dict]:
    out = tmp_path / "reports"
    subprocess.run(
        [sys.executable, "-m", "pytest", "conformance/test_conformance.py", "-q", "-p", "no:randomly", *QUIET_PLUGINS,
         "--runtime", "ai-lib-ts", "-k", selection, f"--matrix-report={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    doc = json.loads((out / "results" / "ai-lib-ts.json").read_text(encoding="utf-8"))
    assert (out / "ai-lib-ts" / "capability-matrix.md").is_file()
    return {f"{c['provider']}/{c['scenario']}": c for c in doc["cells"]}


def test_ai_lib_ts_runs_the_scenarios_through_the_replay_proxy(ai_lib_ts: object, tmp_path: Path) -> None:
    cells = _run_suite(tmp_path, "openai-basic or openrouter-basic or anthropic-basic")
    # src/client/index.ts buildRequest: every body carries "stream": false|true; the URL and
    # auth are right, so replay answered and only the body differs from the recording
    assert cells["openai/basic"]["detail"] == (
        'openai/basic: request body differs from the cassette: stream: now false, recorded "<missing>"'
    )
    # src/protocol/loader.ts parseModelString: a model id must have exactly one '/'
    assert "Invalid model string format" in cells["openrouter/basic"]["detail"]
    # src/transport/index.ts sends manifest.default_headers and auth headers only: the v2
    # manifest's endpoint.auth.extra_headers (anthropic-version) are not sent
    assert "header anthropic-version=None, documented '2023-06-01'" in cells["anthropic/basic"]["detail"]


def test_ai_lib_ts_driver_blocks_the_network(ai_lib_ts: object, tmp_path: Path) -> None:
    from conformance.runtimes.ai_lib_ts_runtime import DRIVER

    request = {
        "id": 1, "provider": "openai", "model": "gpt-4o", "api_key": "sk-test", "messages": [["user", "Hi"]],
        "parameters": {}, "mode": "execute", "max_retries": 0, "proxy": "http://192.0.2.1:9",
        "protocol_dir": str(ROOT.parent / "shared" / "ai-protocol"),
    }  # fmt: skip
    done = subprocess.run(
        ai_lib_ts.command(), input=json.dumps(request) + "\n", capture_output=True, text=True, timeout=60, check=False
    )
    assert DRIVER.name in " ".join(ai_lib_ts.command())
    answer = json.loads(done.stdout.splitlines()[-1])
    assert "network blocked by the conformance driver: http://192.0.2.1:9" in answer["outcome"]["error"]["message"]


def test_a_key_quoted_by_a_runtime_never_reaches_the_results() -> None:
    from conformance.runner import CellContext, run_cell
    from conformance.runtimes.base import Outcome
    from conformance.scenarios import load_scenarios

    key = "sk-quoted-by-the-runtime-0123456789"

    class Quoting:
        name, version = "quoting", "0"

        def unavailable(self) -> None:
            return None

        def supports(self, provider: str) -> None:
            return None

        async def run(self, call: Call) -> Outcome:
            raise RuntimeError(f"cannot play back POST https://x.example/v1?key={call.api_key}")

    basic = next(s for s in load_scenarios() if s.id == "basic")
    ctx = CellContext(
        runtime=Quoting(), http_client=httpx.AsyncClient, seen=[], cassette=None, replaying=True, api_key=key
    )
    result = run_cell("openai", basic, ctx)
    assert result.status == "fail"
    assert key not in (result.detail or "") and "key=<api key>" in (result.detail or "")
    assert not [p for p in result.problems if key in p]


def test_ai_lib_python_on_upstream_manifests(tmp_path: Path) -> None:
    pytest.importorskip("ai_lib_python", reason="ai-lib-python is not installed (pip install 'ailib[runtimes]')")
    if not (ROOT.parent / "shared" / "ai-protocol" / "v1").is_dir():
        pytest.skip("upstream AI-Protocol manifests not found at ../shared/ai-protocol")
    out = tmp_path / "reports"
    subprocess.run(
        [sys.executable, "-m", "pytest", "conformance/test_conformance.py", "-q", "-p", "no:randomly", *QUIET_PLUGINS,
         "--runtime", "ai-lib-python-upstream", "-k", "openai-basic or deepseek-basic", f"--matrix-report={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    cells = {c["provider"]: c for c in json.loads((out / "results" / "ai-lib-python-upstream.json").read_text())["cells"]
             if c["scenario"] == "basic"}  # fmt: skip
    # ai-lib-python 1.2.0 sends the model id as given ("openai/gpt-4o"), read from v2/providers/openai.yaml
    assert "body field model='openai/gpt-4o', expected model 'gpt-4o'" in cells["openai"]["detail"]
    # upstream's deepseek file is the v1.1 layout (top-level base_url), which its pydantic model refuses
    assert cells["deepseek"]["detail"].startswith(
        "not run: runtime ai-lib-python-upstream cannot load deepseek: ai-lib-python cannot load "
        "v1/providers/deepseek.yaml: ValidationError"
    )
