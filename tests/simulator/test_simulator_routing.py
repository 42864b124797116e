"""Which provider answers: contracts loading and URL matching."""

from __future__ import annotations

from pathlib import Path

from conformance.simulator import FAULTS, SimRequest, SimResponse, SimulatorServer, load_contracts, respond

from .support import CONTRACTS, KEY, SYNTHETIC, call, synthetic


def test_public_interface() -> None:
    assert callable(respond) and callable(load_contracts)
    assert {"error_429", "stream_cut"} <= set(FAULTS)
    assert SimResponse(200, {}, [b"a", b"b"]).body == b"ab"
    request = SimRequest("post", "https://x.example/", {"X-Api-Key": "k"}, b"{}")
    assert request.method == "POST" and request.headers == {"x-api-key": "k"}
    assert SimulatorServer(CONTRACTS).contracts is CONTRACTS


def test_load_contracts_reads_every_yaml_but_not_the_readme(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# not a contract\n")
    (tmp_path / "one.yaml").write_text("one:\n  family: openai-chat\n  url: https://one.example/v1/chat/completions\n")
    (tmp_path / "two.yaml").write_text("two:\n  no_chat: embeddings only\n")
    contracts = load_contracts(tmp_path)
    assert set(contracts) == {"one", "two"}
    assert contracts["one"]["url"] == "https://one.example/v1/chat/completions"


def test_default_contracts_include_the_reference_providers() -> None:
    assert {"openai", "anthropic", "gemini", "cohere"} <= set(CONTRACTS)
    assert CONTRACTS["anthropic"]["family"] == "anthropic-messages"


def test_unknown_host_is_a_plain_404() -> None:
    response = call("https://api.unknown.example/v1/chat/completions", {}, {"authorization": "Bearer x"})
    assert response.status == 404
    assert "no provider contract" in response.json()["error"]["message"]


def test_no_chat_contracts_are_not_served() -> None:
    response = call("https://api.nochat.example/v1/chat", {}, contracts={"nochat": SYNTHETIC["nochat"]})
    assert response.status == 404


def test_wrong_path_on_a_known_host_is_the_family_404() -> None:
    response = call(
        "https://api.openai.com/v1/chat/completion", {"model": "gpt-4o"}, {"authorization": f"Bearer {KEY}"}
    )
    assert response.status == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/chat/completion)"
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_wrong_method_is_404() -> None:
    response = call("https://api.openai.com/v1/chat/completions", b"", {"authorization": f"Bearer {KEY}"}, method="GET")
    assert response.status == 404
    assert response.json()["error"]["message"] == "Invalid URL (GET /v1/chat/completions)"


def test_host_port_and_scheme_do_not_matter() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    response = call("http://api.openai.com:443/v1/chat/completions", body, {"authorization": f"Bearer {KEY}"})
    assert response.status == 200


def test_model_is_matched_as_a_path_segment_in_the_gemini_url() -> None:
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-pro-002:generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    response = call(url, body, {"x-goog-api-key": KEY})
    assert response.status == 200
    assert response.json()["modelVersion"] == "gemini-1.5-pro-002"


def test_a_query_parameter_the_contract_url_holds_is_required() -> None:
    ok = synthetic(
        "azurelike",
        url="https://my-resource.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
    )
    assert ok.status == 200
    missing = synthetic(
        "azurelike", url="https://my-resource.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
    )
    assert missing.status == 404


def test_url_variables_are_substituted_from_the_contract() -> None:
    other = synthetic(
        "azurelike",
        url="https://other-resource.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
    )
    assert other.status == 404


def test_extra_query_parameters_are_ignored() -> None:
    url = (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?key=abc&alt=sse"
    )
    response = call(url, {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, {"x-goog-api-key": KEY})
    assert response.status == 200
    assert response.headers["content-type"] == "text/event-stream"


def test_replicate_model_with_owner_and_name() -> None:
    from .support import replicate

    response = replicate()
    assert response.status == 201
    assert response.json()["model"] == "meta/meta-llama-3-8b-instruct"
    encoded = call(
        "https://api.replicate.com/v1/models/meta%2Fmeta-llama-3-8b-instruct/predictions",
        {"input": {"prompt": "hi"}},
        {"authorization": f"Bearer {KEY}", "prefer": "wait"},
        contracts=SYNTHETIC,
    )
    assert encoded.json()["model"] == "meta/meta-llama-3-8b-instruct"


def test_every_served_contract_answers_a_documented_request() -> None:
    """Smoke test over whatever contracts exist: each serves its own URL."""
    for cid, contract in CONTRACTS.items():
        if contract.get("no_chat"):
            continue
        family = contract["family"]
        model = contract.get("model", "m")
        url = contract["url"].replace("{model}", model)
        auth = contract["auth"]
        headers = {k.lower(): str(v) for k, v in (contract.get("headers") or {}).items()}
        if "header" in auth:
            headers[auth["header"].lower()] = auth.get("format", "{key}").replace("{key}", KEY)
        else:
            url += ("&" if "?" in url else "?") + f"{auth['query']}={KEY}"
        if family == "gemini":
            body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        elif family == "replicate":
            body = {"input": {"prompt": "hi"}}
        else:
            body = {"messages": [{"role": "user", "content": "hi"}]}
            if contract.get("model_in", "body") == "body":
                body["model"] = model
            for name in contract.get("required") or []:
                body[contract["fields"][name]] = 100
        response = call(url, body, headers)
        assert response.status in (200, 201), (cid, response.text[:300])
