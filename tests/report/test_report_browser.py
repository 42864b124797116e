"""The HTML report in a real browser: headless Chromium renders it and runs its script.

``--dump-dom`` prints the DOM after the page's scripts ran, so the filters can be
checked through the URL fragment they honour (``#status=fail``, ``#family=...``,
``#cell=provider/scenario``) without a WebDriver. Screenshots are written under the test's
``tmp_path``; set ``AILIB_ARTIFACTS_DIR`` to keep them for a human to look at.

Chromium is required, not optional: without it this test fails and says how to
install it (``.ci/run`` installs the Debian packages chromium and chromium-driver).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.report import build

from . import report_synthetic as synth

pytestmark = pytest.mark.slow  # headless Chromium per test

REPO = Path(__file__).resolve().parents[2]


def artifacts_dir(tmp_path: Path) -> Path:
    """Where screenshots go: under the test's tmp_path, or $AILIB_ARTIFACTS_DIR to keep them."""
    kept = os.environ.get("AILIB_ARTIFACTS_DIR")
    target = Path(kept) if kept else tmp_path / "artifacts"
    target.mkdir(parents=True, exist_ok=True)
    return target


CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_binary() -> str:
    override = os.environ.get("CHROMIUM")
    found = override if override and shutil.which(override) else next(filter(None, map(shutil.which, CANDIDATES)), None)
    if not found:
        pytest.fail(
            "headless Chromium is needed to test the HTML report but none was found on PATH "
            f"(looked for {', '.join(CANDIDATES)}; or set CHROMIUM=/path/to/chrome). "
            "Install it: `apt-get update && apt-get install -y chromium chromium-driver` "
            "(.ci/run installs these Debian packages).",
            pytrace=False,
        )
    return found


def run_chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *extra,
        url,
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"chromium failed ({done.returncode}):\n{done.stderr[-2000:]}"
    return done


class DomSummary(HTMLParser):
    """The bits of the dumped DOM the assertions need."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: dict[str, bool] = {}  # provider id -> visible
        self.ready = False
        self.scripts = 0
        self.detail_hidden: bool | None = None
        self._capture: str | None = None
        self.texts: dict[str, str] = {"shown": "", "detail": ""}
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.ready = a.get("data-ready") == "true"
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and "provider" in (a.get("class") or "").split():
            self.rows[a["data-provider"]] = "hidden" not in a
        if a.get("id") == "shown":
            self._capture, self._depth = "shown", 0
        if a.get("id") == "detail":
            self.detail_hidden = "hidden" in a
            self._capture, self._depth = "detail", 0
        if self._capture:
            self._depth += 1

    def handle_endtag(self, tag):
        if self._capture:
            self._depth -= 1
            if self._depth == 0:
                self._capture = None

    def handle_data(self, data):
        if self._capture:
            self.texts[self._capture] += data


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, dict]:
    results = synth.make_results()
    work = tmp_path_factory.mktemp("browser")
    build(synth.write(results, work / "results.json"), work / "out")
    return work / "out" / "capability-matrix.html", results


def dom(page_path: Path, fragment: str, profile: Path) -> DomSummary:
    done = run_chromium(page_path.as_uri() + fragment, profile, "--dump-dom")
    summary = DomSummary()
    summary.feed(done.stdout)
    assert summary.ready, "the page script did not finish (no data-ready on <html>)"
    return summary


def test_renders_all_provider_rows(page, tmp_path):
    path, _ = page
    summary = dom(path, "", tmp_path / "profile")
    assert len(summary.rows) == 37
    assert all(summary.rows.values())
    assert summary.texts["shown"] == "Showing 37 of 37 providers"
    assert summary.detail_hidden is True
    assert summary.scripts == 1


def test_status_filter_from_fragment_shows_only_failing_providers(page, tmp_path):
    path, results = page
    expected = synth.expected_counts(results)["failing_providers"]
    assert 0 < len(expected) < 37
    summary = dom(path, "#status=fail", tmp_path / "profile")
    assert sorted(p for p, visible in summary.rows.items() if visible) == expected
    assert len(summary.rows) == 37  # hidden, not removed
    assert summary.texts["shown"] == f"Showing {len(expected)} of 37 providers"


def test_family_and_status_filters_combine(page, tmp_path):
    path, results = page
    failing = set(synth.expected_counts(results)["failing_providers"])
    family = {p["id"] for p in results["providers"] if p["family"] == "openai-chat"}
    summary = dom(path, "#family=openai-chat&status=fail", tmp_path / "profile")
    assert sorted(p for p, v in summary.rows.items() if v) == sorted(failing & family)
    summary = dom(path, "#family=no-such-family", tmp_path / "profile")
    assert all(summary.rows.values()), "an unknown filter value must fall back to showing everything"


def test_cell_fragment_opens_detail_panel_with_escaped_text(page, tmp_path):
    path, _ = page
    summary = dom(path, "#cell=mistral/basic", tmp_path / "profile")
    assert summary.detail_hidden is False
    assert synth.HOSTILE_DETAIL in summary.texts["detail"]  # shown as text ...
    assert summary.scripts == 1  # ... and never turned into a script element
    assert "simulated (recorded against the provider simulator)" in summary.texts["detail"]


def test_screenshot(page, tmp_path):
    path, _ = page
    artifacts = artifacts_dir(tmp_path)
    shots = {
        "capability-matrix.png": "",
        "capability-matrix-failing-with-detail.png": "#status=fail&cell=mistral/basic",
    }
    for name, fragment in shots.items():
        target = artifacts / name
        target.unlink(missing_ok=True)
        run_chromium(
            path.as_uri() + fragment, tmp_path / "profile", f"--screenshot={target}", "--window-size=1600,2000"
        )
        data = target.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000, f"{target} looks empty"


def test_missing_chromium_fails_loudly_with_install_hint(monkeypatch):
    """No silent skip: a machine without Chromium must not pass the browser tests."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CHROMIUM", raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium chromium-driver"):
        chromium_binary()


def test_published_report_renders_all_37_providers(tmp_path):
    """The report committed in reports/ (the real suite run), not only the synthetic one."""
    published = REPO / "reports" / "capability-matrix.html"
    assert published.is_file(), (
        "reports/capability-matrix.html is missing: run pytest conformance/ --matrix-report=reports/"
    )
    summary = dom(published, "", tmp_path / "profile")
    assert len(summary.rows) == 37 and all(summary.rows.values())
    assert "jina" in summary.rows and "openai" in summary.rows
    failing = dom(published, "#status=fail", tmp_path / "profile2")
    assert not any(failing.rows.values()), "the published matrix shows failing providers"
    shot = artifacts_dir(tmp_path) / "published-capability-matrix.png"
    run_chromium(published.as_uri(), tmp_path / "profile3", f"--screenshot={shot}", "--window-size=1600,2000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
