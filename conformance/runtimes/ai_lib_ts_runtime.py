"""Adapter for ai-lib-ts, the AI-Lib TypeScript runtime, run in Node through
``ai_lib_ts_driver.mjs`` (an out-of-process runtime, see :mod:`.process_runtime`).

ai-lib-ts is not on the npm registry; its source is in ``../shared/runtimes/ai-lib-ts``
(``$AILIB_TS_SOURCE``). The first use builds it as ``../shared/runtimes/README.md`` says, in a
copy made under a cache directory outside the repository (``$AILIB_TS_CACHE``, default
``~/.cache/ailib-conformance``): drop the unpublished ``@ailib-official/ai-protocol`` dev/peer
dependency, ``npm install``, ``npx tsup``. Later sessions reuse the build while the source's
``package.json`` and version are unchanged. Node 18+ and npm are needed (Debian's ``nodejs`` and
``npm``: ``bash .ci/install-node.sh``); without them every cell says so.

It reads upstream's AI-Protocol manifests, as its users do: the tree in
``$AILIB_AI_PROTOCOL_DIR`` (``--ai-protocol-dir``), by default ``../shared/ai-protocol``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .ai_lib_python_runtime import upstream_protocol_dir
from .process_runtime import ProcessRuntime

DRIVER = Path(__file__).with_name("ai_lib_ts_driver.mjs")
MIN_NODE = 18
BUILD_TIMEOUT = 900


def source_dir() -> Path:
    env = os.environ.get("AILIB_TS_SOURCE")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "runtimes" / "ai-lib-ts"


def cache_root() -> Path:
    env = os.environ.get("AILIB_TS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "ailib-conformance"


def node_version(node: str) -> int | None:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
        return int(out.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def _build_key(source: Path) -> str:
    package = (source / "package.json").read_bytes()
    return json.loads(package)["version"] + "-" + hashlib.sha256(package).hexdigest()[:12]


def _without_unpublished(package_json: Path) -> None:
    """The build step of ../shared/runtimes/README.md: the ai-protocol package is not on the registry."""
    data = json.loads(package_json.read_text(encoding="utf-8"))
    data.get("devDependencies", {}).pop("@ailib-official/ai-protocol", None)
    data.pop("peerDependencies", None)
    data.pop("peerDependenciesMeta", None)
    package_json.write_text(json.dumps(data, indent=2), encoding="utf-8")


def build(source: Path, cache: Path, npm: str) -> Path:
    """``dist/index.js`` of a build of ``source`` under ``cache`` (built once per source version)."""
    target = cache / f"ai-lib-ts-{_build_key(source)}"
    entry = target / "dist" / "index.js"
    if entry.is_file():
        return entry
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ai-lib-ts-build-", dir=cache))
    try:
        copy = work / "ai-lib-ts"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("node_modules", "dist", ".git"))
        _without_unpublished(copy / "package.json")
        (copy / "package-lock.json").unlink(missing_ok=True)
        for step in ([npm, "install", "--no-audit", "--no-fund"], [npm, "exec", "--", "tsup"]):
            done = subprocess.run(step, cwd=copy, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
            if done.returncode != 0:
                tail = " ".join((done.stderr or done.stdout).split())[-400:]
                raise RuntimeError(f"`{' '.join(step[1:])}` failed ({done.returncode}): {tail}")
        try:
            copy.rename(target)
        except OSError:  # another worker finished the same build first
            if not entry.is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return entry


class AiLibTsRuntime(ProcessRuntime):
    name = "ai-lib-ts"

    def __init__(self) -> None:
        super().__init__()
        self._reason: str | None = None
        self._entry: Path | None = None
        self._checked = False
        self.version = "unknown"
        source = source_dir()
        if (source / "package.json").is_file():
            self.version = json.loads((source / "package.json").read_text(encoding="utf-8")).get("version", "unknown")

    def unavailable(self) -> str | None:
        if not self._checked:
            self._checked = True
            self._reason = self._prepare()
        return self._reason

    def _prepare(self) -> str | None:
        node, npm = shutil.which("node") or shutil.which("nodejs"), shutil.which("npm")
        if node is None or npm is None:
            return "Node.js and npm are not installed (Debian: bash .ci/install-node.sh)"
        major = node_version(node)
        if major is None or major < MIN_NODE:
            return f"Node.js {MIN_NODE}+ is needed, found {major}"
        source = source_dir()
        if not (source / "package.json").is_file():
            return f"ai-lib-ts source not found at {source} (set AILIB_TS_SOURCE)"
        try:
            self._entry = build(source, cache_root(), npm)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            return f"building ai-lib-ts failed: {exc}"
        self._node = node
        return None

    def command(self) -> list[str]:
        assert self._entry is not None
        return [self._node, str(DRIVER), str(self._entry)]

    def protocol_dir(self) -> Path:
        return upstream_protocol_dir()

    def supports(self, provider: str) -> str | None:
        from ailib import protocol

        if protocol.find_file(self.protocol_dir(), provider) is None:
            return f"no AI-Protocol manifest for {provider} under {self.protocol_dir()}"
        return None
