"""The harness installed as its users get it: the client's wheel and the harness's wheel
(packaging/ailib-conformance) built from this checkout, installed into a fresh venv beside
only the dependencies they declare, and the suite run from an empty directory through the
``pytest11`` entry point, on the manifests shipped in the client's wheel and the cassettes
shipped in the harness's."""

from __future__ import annotations

import email
import importlib.metadata
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AILIB_", "PYTEST_", "VIRTUAL_ENV"))}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with both wheels installed by pip, and only their declared dependencies."""
    base = tmp_path_factory.mktemp("installed")
    wheels = base / "wheels"
    wheels.mkdir()
    # hatchling's PEP 517 hook in this environment gives the bytes `pip wheel` gives, without
    # the isolated build environment pip would set up (and fill from the index) for each wheel.
    for project in (ROOT, ROOT / "packaging" / "ailib-conformance"):
        built = _run([sys.executable, "-c", BUILD_WHEEL, str(wheels)], project)
        assert built.returncode == 0, built.stderr[-2000:]
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base)
    assert made.returncode == 0, made.stderr[-2000:]
    python = venv / "bin" / "python"
    done = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-compile",
         *map(str, sorted(wheels.glob("*.whl")))],
        base,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base).stdout.strip()
    )
    _link_dependencies(sorted(wheels.glob("*.whl")), site)
    return base


#: Builds the wheel of the project in the working directory into ``sys.argv[1]``.
BUILD_WHEEL = "import sys; from hatchling.build import build_wheel; build_wheel(sys.argv[1])"


def _link_dependencies(wheels: list[Path], site: Path) -> None:
    """Link into ``site`` the distributions the wheels declare, transitively, from this environment.

    What pip would resolve from the index (the same versions, ~10 s of resolving); the closure
    of the wheels' ``Requires-Dist`` only, with markers and extras evaluated and versions
    checked, so an import the wheels do not declare still fails in the venv.
    """
    provided: set[str] = set()
    todo: list[tuple[Requirement, str]] = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            message = email.message_from_bytes(archive.read(meta))
        provided.add(canonicalize_name(message["Name"]))
        todo += [(Requirement(line), "") for line in message.get_all("Requires-Dist", [])]
    linked: set[tuple[str, str]] = set()
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        if name in provided:
            continue
        dist = importlib.metadata.distribution(name)
        assert requirement.specifier.contains(dist.version, prereleases=True), (requirement, dist.version)
        for wanted in {"", *requirement.extras}:
            if (name, wanted) in linked:
                continue
            linked.add((name, wanted))
            todo += [(Requirement(line), wanted) for line in dist.requires or []]
        for top in {Path(str(file)).parts[0] for file in dist.files or []} - {"..", "__pycache__"}:
            source = Path(str(dist.locate_file(top)))
            if not (site / top).exists() and source.exists():
                (site / top).symlink_to(source)


def test_wheels_split_client_and_harness(installed: Path) -> None:
    (client,) = (installed / "wheels").glob("ailib-*.whl")
    (harness,) = (installed / "wheels").glob("ailib_conformance-*.whl")
    client_top = {name.split("/")[0] for name in zipfile.ZipFile(client).namelist()}
    assert client_top == {"ailib", "ailib-0.1.0.dist-info"}  # no conformance package, no test files
    names = zipfile.ZipFile(harness).namelist()
    assert "ailib_conformance/_data/cassettes/openai/basic.yaml" in names
    assert "ailib_conformance/scenarios.yaml" in names
    assert "ailib_conformance/runtimes/ai_lib_ts_driver.mjs" in names
    assert not [n for n in names if "__pycache__" in n]
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ailib_conformance = ailib_conformance.plugin" in zipfile.ZipFile(harness).read(entry).decode()


def test_suite_runs_from_an_empty_directory(installed: Path) -> None:
    empty = installed / "empty"
    empty.mkdir()
    python = installed / "venv" / "bin" / "python"
    run = _run(
        [str(python), "-m", "pytest", "--pyargs", "ailib_conformance", "-q", "-p", "no:cacheprovider",
         "--matrix-report=reports"],
        empty,
    )  # fmt: skip
    tail = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in tail and "failed" not in tail
    matrix = json.loads((empty / "reports" / "capability-matrix.json").read_text(encoding="utf-8"))
    assert len(matrix["providers"]) == 37
    # the suite found its cassettes inside the installed package, not in a checkout
    assert not (empty / "cassettes").exists()


def test_options_point_it_at_another_runtime_and_cassettes(installed: Path, tmp_path: Path) -> None:
    python = installed / "venv" / "bin" / "python"
    cassettes = tmp_path / "mine"
    (cassettes / "openai").mkdir(parents=True)
    (cassettes / "openai" / "basic.yaml").write_bytes((ROOT / "cassettes" / "openai" / "basic.yaml").read_bytes())
    run = _run(
        [str(python), "-m", "pytest", "--pyargs", "ailib_conformance.test_conformance", "-q", "-p", "no:cacheprovider",
         "-k", "openai-basic or openai-system", "--cassettes", str(cassettes),
         "--runtime", "ailib_conformance.runtimes.ailib_runtime:AilibRuntime"],
        tmp_path,
    )  # fmt: skip
    out = run.stdout
    assert "1 failed, 1 passed" in out, out[-3000:]
    assert "openai-system" in out and "missing cassette" in out  # only basic was given in --cassettes
