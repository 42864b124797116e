"""Benchmark ailib against ai-lib-python, the openai SDK and LiteLLM, with transport floors.

    python benchmarks/run.py            # full run (about 10 minutes on 2 cores), writes reports/benchmarks.md
    python benchmarks/run.py --quick    # smoke run (about 2 minutes), writes reports/.results/benchmarks-quick.md

Standard library only: it creates ``benchmarks/.venv`` on first use (ailib with its
``fast`` extra, plus the pinned competitors of ``benchmarks/requirements.txt``) and
runs every measurement there, each runtime in a fresh subprocess of its own
(``benchmarks/bench_worker.py``), in alternating order, several repetitions, reporting
medians. The OpenAI-style server (``benchmarks/loopback_server.py``) listens on 127.0.0.1 only
and stops by itself; the workers refuse any other address.

What is measured (see benchmarks/README.md for the method and the analysis):
streaming of N = 1 000 and 20 000 chunks (time to last delta, deltas/s, client CPU,
peak RSS), non-streaming requests per second at 1 and 32 concurrent, import time,
ailib's per-request overhead without network, and the conformance suite's run time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
import venv
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
sys.path.insert(0, str(HERE))

import loopback_server as server  # noqa: E402  (benchmarks/ is a directory of scripts, not a package)

#: Every runtime, in the order of the tables. Floors first: no client library.
RUNTIMES = ["socket", "httpx", "httpx-aiohttp", "ailib", "ailib-fast", "ai-lib-python", "openai", "litellm"]
LABELS = {
    "socket": "floor: asyncio socket + json.loads",
    "httpx": "floor: httpx (aiter_lines + json.loads)",
    "httpx-aiohttp": "floor: httpx + aiohttp transport",
    "ailib": "**ailib** (default, httpx)",
    "ailib-fast": "**ailib** `fast=True` (httpx + aiohttp, orjson)",
    "ai-lib-python": "ai-lib-python",
    "openai": "openai SDK",
    "litellm": "LiteLLM",
}
#: The import each runtime needs (None: the floors share httpx's).
IMPORTS = {
    "ailib": "ailib",
    "httpx": "httpx",
    "ai-lib-python": "ai_lib_python",
    "openai": "openai",
    "litellm": "litellm",
}
#: The distribution that must be installed for a runtime to run.
NEEDS = {
    "ai-lib-python": "ai_lib_python",
    "openai": "openai",
    "litellm": "litellm",
    "httpx-aiohttp": "httpx_aiohttp",
    "ailib-fast": "httpx_aiohttp",
}

#: A runtime whose repetition takes longer than this runs only SLOW_REPS repetitions.
SLOW_SECONDS, SLOW_REPS = 25.0, 3
FULL = {
    "reps": 5,
    "stream": (1000, 20000),
    "concurrency": (1, 32),
    "duration": 1.0,
    "inner": 3,
    "import_reps": 5,
    "overhead_loops": 3000,
    "conformance_reps": 2,
}
QUICK = {
    "reps": 1,
    "stream": (1000, 5000),
    "concurrency": (1, 32),
    "duration": 0.3,
    "inner": 1,
    "import_reps": 3,
    "overhead_loops": 500,
    "conformance_reps": 1,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- environment -----------------------------------------------------------------------


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv(force: bool) -> Path:
    """Create benchmarks/.venv with ailib[fast] and the pinned competitors, once."""
    py = venv_python()
    marker = VENV / ".installed"
    stamp = REQUIREMENTS.read_text()
    if py.exists() and marker.exists() and marker.read_text() == stamp and not force:
        check = "import ailib, httpx_aiohttp, orjson, sys; sys.exit(ailib.__file__.startswith(sys.argv[1]) is False)"
        if subprocess.run([str(py), "-c", check, str(ROOT)], check=False, capture_output=True).returncode == 0:
            return py
    if not py.exists():
        log(f"creating {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    log("installing ailib[fast] and the competitors (benchmarks/requirements.txt)")
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", f"{ROOT}[fast]"], check=True)
    result = subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=False)
    if result.returncode != 0:
        # LiteLLM does not install everywhere: install the rest one by one, so that a
        # competitor that cannot be installed is reported as skipped, not fatal.
        log("installing the requirements together failed; trying one by one")
        for line in REQUIREMENTS.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                subprocess.run([*pip, line], check=False)
    marker.write_text(stamp)
    return py


def worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROXY") and not k.endswith("_proxy")}
    env.update(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # LiteLLM fetches a price list at import otherwise
            "LITELLM_TELEMETRY": "False",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONDONTWRITEBYTECODE": "",
            "OPENAI_API_KEY": "sk-bench-not-a-real-key",
        }
    )
    env.pop("PYTHONPATH", None)
    return env


def installed(py: Path, module: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module!r}) else 1)"
    return subprocess.run([str(py), "-c", code], check=False, env=worker_env(), capture_output=True).returncode == 0


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "load_start": os.getloadavg(),
    }


# --- the server ------------------------------------------------------------------------


class Server:
    """benchmarks/loopback_server.py in a subprocess; stops when we close its stdin (or at its TTL)."""

    def __init__(self, ttl: float, prerender: tuple[int, ...]) -> None:
        cmd = [
            sys.executable,
            str(HERE / "loopback_server.py"),
            "--ttl",
            str(int(ttl)),
            "--prerender",
            ",".join(map(str, prerender)),
        ]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(10)


# --- measurements ----------------------------------------------------------------------


def run_worker(py: Path, args: list[str], timeout: float) -> dict[str, Any]:
    cmd = [str(py), str(HERE / "bench_worker.py"), *args]
    try:
        proc = subprocess.run(
            cmd, check=False, capture_output=True, text=True, timeout=timeout, env=worker_env(), cwd=str(ROOT)
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0][:300]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rotation(items: list[str], rep: int) -> list[str]:
    """Alternate the order between repetitions: rotate by one each time, reversed every other."""
    k = rep % len(items)
    order = items[k:] + items[:k]
    return order[::-1] if rep % 2 else order


IDLE_LOAD = 0.75 * (os.cpu_count() or 1)


def wait_idle(limit: float) -> None:
    """Wait up to ``limit`` seconds for the 1-minute load average to drop below 3/4 of the cores."""
    if limit <= 0:
        return
    deadline = time.monotonic() + limit
    load = os.getloadavg()[0]
    if load < IDLE_LOAD:
        return
    log(f"load average {load:.2f}: waiting up to {limit:.0f} s for it to fall below {IDLE_LOAD:.2f}")
    while load >= IDLE_LOAD and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    log(f"load average {load:.2f}, going on")


def measure_runtimes(py: Path, runtimes: list[str], cfg: dict[str, Any], port: int) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in runtimes}
    args = [
        "--port", str(port),
        "--stream", ",".join(map(str, cfg["stream"])),
        "--concurrency", ",".join(map(str, cfg["concurrency"])),
        "--duration", str(cfg["duration"]),
        "--inner", str(cfg["inner"]),
    ]  # fmt: skip
    expected = {str(n): server.expected(n) for n in cfg["stream"]}
    slow: set[str] = set()
    for rep in range(cfg["reps"]):
        wait_idle(cfg.get("wait_idle", 0))
        for name in rotation(runtimes, rep):
            if name in slow and rep >= SLOW_REPS:
                continue  # keeps the full run near ten minutes: LiteLLM alone takes ~30 s per repetition here
            started = time.perf_counter()
            load = os.getloadavg()[0]
            result = run_worker(py, ["--runtime", name, *args], timeout=300)
            result["load"] = load
            if "error" not in result:
                for n, got in result["stream"].items():
                    want = expected[n]
                    if (got["deltas"], got["chars"], got["crc32"]) != (want["deltas"], want["chars"], want["crc32"]):
                        result = {
                            "error": f"wrong stream content for N={n}: {got['deltas']} deltas, expected {want['deltas']}"
                        }
                        break
                else:
                    for c, got in result["requests"].items():
                        if got["wrong"] or got["errors"]:
                            result = {
                                "error": f"{got['errors']} errors / {got['wrong']} wrong answers at concurrency {c}"
                            }
            results[name].append(result)
            status = result.get("error") or ", ".join(
                f"N={n}: {s['deltas_per_s']:,.0f}/s" for n, s in result["stream"].items()
            ) + ", " + ", ".join(f"c={c}: {r['rps']:,.0f} req/s" for c, r in result["requests"].items())
            took = time.perf_counter() - started
            if took > SLOW_SECONDS:
                slow.add(name)
            log(f"rep {rep + 1}/{cfg['reps']} {name:14s} {took:5.1f} s  {status}")
    return results


def import_times(py: Path, modules: list[str], reps: int) -> dict[str, list[float]]:
    """Cumulative ``-X importtime`` of each top-level import, in fresh interpreters (ms)."""
    out: dict[str, list[float]] = {m: [] for m in modules}
    env = worker_env()

    def once(module: str) -> float | None:
        proc = subprocess.run(
            [str(py), "-X", "importtime", "-c", f"import {module}"],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            cwd="/",
        )
        if proc.returncode != 0:
            return None
        for line in reversed(proc.stderr.splitlines()):
            parts = line.split("|")
            if len(parts) == 3 and parts[2].rstrip() == f" {module}":  # the top-level line, not a nested re-import
                return int(parts[1]) / 1000
        return None

    for module in modules:  # warm the bytecode caches, untimed
        once(module)
    for rep in range(reps):
        for module in rotation(modules, rep):
            value = once(module)
            if value is not None:
                out[module].append(value)
    return out


def bare_interpreter_ms(py: Path, reps: int) -> float:
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        subprocess.run([str(py), "-c", "pass"], env=worker_env(), check=True)
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def overhead(py: Path, loops: int, reps: int) -> list[dict[str, Any]]:
    return [run_worker(py, ["--overhead", str(loops)], timeout=300) for _ in range(reps)]


def conformance_python(py: Path) -> Path | None:
    """The project's dev venv if it has pytest (it has the test extras), else ours."""
    for candidate in (ROOT / ".venv" / "bin" / "python", py):
        if (
            candidate.exists()
            and subprocess.run(
                [str(candidate), "-c", "import pytest, xdist"], check=False, capture_output=True
            ).returncode
            == 0
        ):
            return candidate
    return None


def conformance(py: Path, reps: int) -> dict[str, Any]:
    """Wall time of ``pytest conformance/``, serial and with ``-n 2``."""
    folder = ROOT / "conformance"
    if not folder.is_dir() or not any(folder.rglob("test_*.py")):
        return {"status": "not available yet", "detail": "no tests in conformance/"}
    pyt = conformance_python(py)
    if pyt is None:
        return {"status": "not available", "detail": "no Python with pytest and pytest-xdist"}
    result: dict[str, Any] = {"python": str(pyt.relative_to(ROOT) if pyt.is_relative_to(ROOT) else pyt), "runs": {}}
    for label, extra in (("serial", []), ("-n 2", ["-n", "2"])):
        samples, summary = [], ""
        for _ in range(reps):
            cmd = [str(pyt), "-m", "pytest", "conformance/", "-q", "-p", "no:randomly", *extra]
            t = time.perf_counter()
            proc = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=str(ROOT), timeout=600)
            elapsed = time.perf_counter() - t
            if proc.returncode == 5:  # pytest: no tests collected
                return {"status": "not available yet", "detail": "pytest collected no tests in conformance/"}
            lines = [ln for ln in proc.stdout.strip().splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
            summary = lines[-1].strip("= ") if lines else f"exit {proc.returncode}"
            samples.append(elapsed)
        result["runs"][label] = {
            "seconds": samples,
            "summary": summary,
            "command": " ".join(shlex.quote(c) for c in cmd[1:]),
        }
    result["status"] = "ok"
    return result


# --- the report ------------------------------------------------------------------------


def med(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def stream_stat(runs: list[dict[str, Any]], n: int, key: str) -> float | None:
    return med([r["stream"][str(n)][key] for r in runs if "error" not in r])


def request_stat(runs: list[dict[str, Any]], c: int, key: str) -> float | None:
    return med([r["requests"][str(c)][key] for r in runs if "error" not in r])


def fmt(value: float | None, spec: str = ",.0f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None or base == 0:
        return "n/a"
    return f"{value / base:.2f}x"


def errors_of(runs: list[dict[str, Any]]) -> str:
    errs = [r["error"] for r in runs if "error" in r]
    return errs[0] if errs else ""


def build_report(data: dict[str, Any]) -> str:
    cfg, res, m = data["config"], data["runtimes"], data["machine"]
    ok = {name: runs for name, runs in res.items() if any("error" not in r for r in runs)}
    versions: dict[str, str] = {}
    for runs in res.values():
        for r in runs:
            versions.update(r.get("versions", {}))
    L: list[str] = []
    w = L.append
    w("# Benchmarks: ailib against ai-lib-python, the openai SDK and LiteLLM")
    w("")
    w(f"Generated by `{data['command']}` on {data['date']} (total {data['elapsed_s'] / 60:.1f} min). "
      "Method, analysis and the targets: [benchmarks/README.md](../benchmarks/README.md).")  # fmt: skip
    w("")
    w("## Machine")
    w("")
    w(f"- {m['cores']} cores ({m['cpu']}), {m['memory']} RAM, {m['os']}")
    w(f"- Python {data['python']} (benchmark venv `benchmarks/.venv`)")
    loads = [r["load"] for runs in res.values() for r in runs if "load" in r]
    w(f"- load average at start {m['load_start'][0]:.2f}, at end {m['load_end'][0]:.2f}, median when a worker started "
      f"{fmt(med(loads), '.2f')} "
      "(other work shares this machine: wall-clock figures carry that noise; client CPU time is steadier)")  # fmt: skip
    w("- packages: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    reps = {name: len(runs) for name, runs in res.items()}
    fewer = [f"{LABELS.get(k, k)}: {v}" for k, v in reps.items() if v < cfg["reps"]]
    w(f"- {cfg['reps']} repetitions per runtime" + (f" (runtimes slower than {SLOW_SECONDS:.0f} s a repetition: {SLOW_REPS}; " + ", ".join(fewer) + ")" if fewer else "")
      + ", each runtime in a fresh process per repetition, order rotated and "
      f"reversed between repetitions; medians. Each stream figure is the fastest of up to {cfg['inner']} back-to-back "
      "streams in its process (one when a stream takes over 2 s). Server: 127.0.0.1, HTTP/1.1 chunked, one SSE event per chunk, "
      "bodies pre-rendered (it costs the client nothing but its own work).")  # fmt: skip
    w("")
    skipped = {name: errors_of(runs) for name, runs in res.items() if name not in ok}
    for name, why in data.get("skipped", {}).items():
        skipped[name] = why
    if skipped:
        w("Skipped: " + "; ".join(f"{LABELS.get(k, k)}: {v}" for k, v in skipped.items()))
        w("")
    floors = {"ailib": "httpx", "ailib-fast": "httpx-aiohttp", "ai-lib-python": "httpx", "openai": "httpx", "litellm": "httpx-aiohttp",
              "httpx": "httpx", "httpx-aiohttp": "httpx-aiohttp", "socket": "socket"}  # fmt: skip
    w("Ratios are of cost (time per delta or per request): **vs ailib** = this runtime's time / ailib's (default) "
      "time, so 3.00x means three times slower than ailib; **vs floor** = time / the time of the raw client on the "
      "same transport (httpx, or httpx with the aiohttp transport), i.e. what the transport allows; **vs socket** = "
      "time / the raw asyncio socket reader's.")  # fmt: skip
    w("")
    for n in cfg["stream"]:
        w(f"## Streaming, N = {n:,} chunks")
        w("")
        w(
            "| runtime | time to last delta | deltas/s | client CPU | peak RSS | vs ailib | vs floor | vs socket | CPU vs ailib | CPU vs floor |"
        )
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        base = stream_stat(ok.get("ailib", []), n, "seconds")
        base_cpu = stream_stat(ok.get("ailib", []), n, "cpu_seconds")
        sock = stream_stat(ok.get("socket", []), n, "seconds")
        for name in RUNTIMES:
            if name not in ok:
                continue
            runs = ok[name]
            secs = stream_stat(runs, n, "seconds")
            cpu = stream_stat(runs, n, "cpu_seconds")
            floor = stream_stat(ok.get(floors[name], []), n, "seconds")
            floor_cpu = stream_stat(ok.get(floors[name], []), n, "cpu_seconds")
            w(f"| {LABELS[name]} | {fmt(secs and secs * 1000, ',.0f', ' ms')} | {fmt(stream_stat(runs, n, 'deltas_per_s'))} | "
              f"{fmt(cpu and cpu * 1000, ',.0f', ' ms')} | {fmt(stream_stat(runs, n, 'peak_rss_mib'), '.0f', ' MiB')} | "
              f"{ratio(secs, base)} | {ratio(secs, floor)} | {ratio(secs, sock)} | {ratio(cpu, base_cpu)} | {ratio(cpu, floor_cpu)} |")  # fmt: skip
        w("")
    w("## Non-streaming requests per second")
    w("")
    cs = cfg["concurrency"]
    w(f"Each concurrent task sends requests back to back for {cfg['duration']:g} s (after one warm request per task); "
      "client CPU per request in brackets.")  # fmt: skip
    w("")
    w("| runtime | " + " | ".join(f"req/s, {c} concurrent | vs ailib | vs floor" for c in cs) + " |")
    w("|---|" + "---:|---:|---:|" * len(cs))
    for name in RUNTIMES:
        if name not in ok:
            continue
        cells = []
        for c in cs:
            rps = request_stat(ok[name], c, "rps")
            base = request_stat(ok.get("ailib", []), c, "rps")
            floor = request_stat(ok.get(floors[name], []), c, "rps")
            cpu = med(
                [r["requests"][str(c)]["cpu_seconds"] / max(1, r["requests"][str(c)]["requests"]) for r in ok[name]]
            )
            cells += [f"{fmt(rps)} ({fmt(cpu and cpu * 1e6, ',.0f', ' µs')})", ratio(base, rps), ratio(floor, rps)]
        w(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    w("")
    w("## Import time")
    w("")
    imp = data.get("imports", {})
    if imp:
        w(f"`python -X importtime -c 'import X'`, cumulative time of the top-level import, median of {cfg['import_reps']} fresh "
          f"interpreters (bytecode cached; a bare interpreter starts in {data['bare_ms']:.0f} ms, not included).")  # fmt: skip
        w("")
        w("| import | median | vs ailib | vs httpx |")
        w("|---|---:|---:|---:|")
        base, hx = med(imp.get("ailib", [])), med(imp.get("httpx", []))
        for module, samples in imp.items():
            value = med(samples)
            w(f"| `import {module}` | {fmt(value, ',.0f', ' ms')} | {ratio(value, base)} | {ratio(value, hx)} |")
        w("")
    w("## ailib per-request overhead (no network)")
    w("")
    oh = [o for o in data.get("overhead", []) if "error" not in o]
    if oh:
        w("Build the request (`client.chat().user(...).temperature(...).build()`: body, URL, headers, key, `httpx.Request`) "
          "and parse a canned OpenAI response (`json.loads` + manifest paths into a `ChatResponse`), in a loop; "
          f"minimum of 5 batches of {cfg['overhead_loops']}, median of {len(oh)} processes.")  # fmt: skip
        w("")
        w("| step | time per request |")
        w("|---|---:|")
        for key, label in (("build_us", "build"), ("parse_us", "parse"), ("total_us", "build + parse")):
            w(f"| {label} | {fmt(med([o[key] for o in oh]), '.1f', ' µs')} |")
        w("")
    w("## Conformance suite run time")
    w("")
    conf = data.get("conformance", {})
    if conf.get("status") == "ok":
        w(f"`pytest conformance/` with `{conf['python']}`, wall time, median of {cfg['conformance_reps']}.")
        w("")
        w("| run | median | result |")
        w("|---|---:|---|")
        for label, run in conf["runs"].items():
            w(f"| {label} | {fmt(med(run['seconds']), '.1f', ' s')} | {run['summary']} |")
    else:
        w(
            f"| run | time |\n|---|---|\n| serial | {conf.get('status', 'not measured')} |\n| -n 2 | {conf.get('status', 'not measured')} |"
        )
        if conf.get("detail"):
            w("")
            w(f"({conf['detail']})")
    w("")
    w("## Targets")
    w("")
    w("| target | measured | |")
    w("|---|---|---|")
    for target, measured, met in targets(data, ok):
        w(f"| {target} | {measured} | {'met' if met else ('**missed**' if met is not None else 'n/a')} |")
    w("")
    return "\n".join(L)


def targets(data: dict[str, Any], ok: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, bool | None]]:
    n = max(data["config"]["stream"])
    out: list[tuple[str, str, bool | None]] = []

    def secs(name: str) -> float | None:
        return stream_stat(ok.get(name, []), n, "seconds")

    def rps(name: str, c: int) -> float | None:
        return request_stat(ok.get(name, []), c, "rps")

    def check(label: str, value: float | None, limit: float, higher_is_better: bool) -> None:
        if value is None:
            out.append((label, "n/a", None))
        else:
            out.append((label, f"{value:.2f}x", value >= limit if higher_is_better else value <= limit))

    a, h = secs("ailib"), secs("httpx")
    check(f"ailib streaming (N={n:,}) within 1.15x of raw httpx's time", a / h if a and h else None, 1.15, False)
    ac, hc = stream_stat(ok.get("ailib", []), n, "cpu_seconds"), stream_stat(ok.get("httpx", []), n, "cpu_seconds")
    if ac and hc:
        label, measured, met = out[-1]
        out[-1] = (label, f"{measured} (client CPU: {ac / hc:.2f}x)", met)
    alp, oai = secs("ai-lib-python"), secs("openai")
    check("ailib streaming ≥ 1.3x ai-lib-python", alp / a if a and alp else None, 1.3, True)
    check("ailib streaming ≥ 5x openai SDK", oai / a if a and oai else None, 5.0, True)
    fast = secs("ailib-fast")
    check("ailib fast streaming ≥ 2.5x ai-lib-python", alp / fast if fast and alp else None, 2.5, True)
    c = max(data["config"]["concurrency"])
    f32, alp32 = rps("ailib-fast", c), rps("ai-lib-python", c)
    check(
        f"ailib fast ≥ 5x ai-lib-python at {c} concurrent non-streaming",
        f32 / alp32 if f32 and alp32 else None,
        5.0,
        True,
    )
    imp = data.get("imports", {})
    ia, ih = med(imp.get("ailib", [])), med(imp.get("httpx", []))
    check("import ailib ≤ 1.3x import httpx", ia / ih if ia and ih else None, 1.3, False)
    others = {m: med(v) for m, v in imp.items() if m not in ("ailib", "httpx") and v}
    if ia and others:
        slowest = min(others.values())
        out.append(
            (
                "import ailib faster than each competitor",
                f"{ia:,.0f} ms vs fastest competitor {slowest:,.0f} ms",
                ia < slowest,
            )
        )
    oh = [o["total_us"] for o in data.get("overhead", []) if "error" not in o]
    if oh:
        value = med(oh)
        out.append(("per-request overhead < 100 µs", f"{value:.1f} µs", value < 100))
    conf = data.get("conformance", {})
    if conf.get("status") == "ok":
        best = min(med(r["seconds"]) for r in conf["runs"].values())
        out.append(("conformance suite < 10 s", f"{best:.1f} s (fastest of serial / -n 2)", best < 10))
    else:
        out.append(("conformance suite < 10 s", conf.get("status", "not measured"), None))
    return out


# --- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark ailib against its competitors (see benchmarks/README.md).")
    parser.add_argument(
        "--quick", action="store_true", help="one repetition, smaller streams: a smoke run of about two minutes"
    )
    parser.add_argument("--reps", type=int, help="repetitions per runtime (default 5, quick 1)")
    parser.add_argument("--runtimes", help="comma-separated subset of: " + ",".join(RUNTIMES))
    parser.add_argument(
        "--skip", default="", help="comma-separated sections to skip: runtimes,imports,overhead,conformance"
    )
    parser.add_argument(
        "--out", help="report file (default reports/benchmarks.md, quick: reports/.results/benchmarks-quick.md)"
    )
    parser.add_argument("--setup", action="store_true", help="(re)install benchmarks/.venv and exit")
    parser.add_argument(
        "--wait-idle", type=float, default=0, metavar="SECONDS",
        help="before each repetition and section, wait up to SECONDS for the 1-minute load average to fall below "
        "3/4 of the cores"
        "(on a shared machine other work skews wall-clock figures)",
    )  # fmt: skip
    args = parser.parse_args()

    started = time.perf_counter()
    cfg = dict(QUICK if args.quick else FULL)
    if args.reps:
        cfg["reps"] = args.reps
    cfg["wait_idle"] = args.wait_idle
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    py = ensure_venv(force=args.setup)
    if args.setup:
        return 0
    out = (
        Path(args.out)
        if args.out
        else ROOT / ("reports/.results/benchmarks-quick.md" if args.quick else "reports/benchmarks.md")
    )
    command = "python benchmarks/run.py" + "".join(f" {a}" for a in sys.argv[1:])
    data: dict[str, Any] = {
        "command": command,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "config": cfg,
        "machine": machine(),
        "python": subprocess.run(
            [str(py), "-c", "import platform; print(platform.python_version())"],
            check=False,
            capture_output=True,
            text=True,
        ).stdout.strip(),
        "runtimes": {},
        "skipped": {},
    }
    runtimes = [r.strip() for r in args.runtimes.split(",")] if args.runtimes else list(RUNTIMES)
    for name in list(runtimes):
        if name in NEEDS and not installed(py, NEEDS[name]):
            data["skipped"][name] = (
                f"not installed in benchmarks/.venv ({NEEDS[name]} missing; see benchmarks/requirements.txt)"
            )
            runtimes.remove(name)
            log(f"skipping {name}: {data['skipped'][name]}")

    if "runtimes" not in skip and runtimes:
        srv = Server(ttl=3600, prerender=(50, *cfg["stream"]))
        log(f"server on 127.0.0.1:{srv.port}")
        try:
            data["runtimes"] = measure_runtimes(py, runtimes, cfg, srv.port)
        finally:
            srv.stop()
    if "imports" not in skip:
        wait_idle(cfg["wait_idle"])
        modules = [
            IMPORTS[r]
            for r in ("httpx", "ailib", "ai-lib-python", "openai", "litellm")
            if r == "httpx" or r == "ailib" or r in runtimes
        ]
        log(f"import times: {', '.join(modules)}")
        data["imports"] = import_times(py, modules, cfg["import_reps"])
        data["bare_ms"] = bare_interpreter_ms(py, cfg["import_reps"])
        log("  " + ", ".join(f"{m} {med(v):,.0f} ms" for m, v in data["imports"].items() if v))
    if "overhead" not in skip:
        wait_idle(cfg["wait_idle"])
        log("ailib per-request overhead")
        data["overhead"] = overhead(py, cfg["overhead_loops"], 3)
        log("  " + ", ".join(f"{o.get('total_us', 0):.1f} µs" for o in data["overhead"]))
    if "conformance" not in skip:
        wait_idle(cfg["wait_idle"])
        log("conformance suite run time")
        data["conformance"] = conformance(py, cfg["conformance_reps"])
        log(f"  {data['conformance'].get('status')}")
    data["machine"]["load_end"] = os.getloadavg()
    data["elapsed_s"] = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(build_report(data) + "\n")
    raw = ROOT / "reports" / ".results" / (out.stem + ".json")
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(data, indent=1, default=str))
    log(
        f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} ({data['elapsed_s'] / 60:.1f} min); raw results in {raw.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
