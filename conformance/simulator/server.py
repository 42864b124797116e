"""The simulator as a local HTTP server (127.0.0.1, a free port, one thread per connection).

Clients connect to 127.0.0.1 but keep the provider's URL and ``Host`` header, so the server
rebuilds ``https://<Host><path>`` and answers it with :func:`respond`. The fault comes from
the ``x-ailib-sim-fault`` request header, or else from faults planned for a host
(:meth:`SimulatorServer.plan_faults`: a client that sends no such header, as in a rehearsed
live run, can still be answered with a 429 first). Streams are written one chunk at a time with
chunked transfer encoding and a flush after each chunk."""

from __future__ import annotations

import socket
import threading
import time
import traceback
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .core import SimRequest, SimResponse
from .faults import FAULT_HEADER, check_fault
from .respond import respond


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ailib-provider-simulator/1"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        if self.server.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = headers.get("host") or f"127.0.0.1:{self.server.server_address[1]}"
        request = SimRequest(self.command, f"https://{host}{self.path}", headers, body)
        try:
            fault = headers.get(FAULT_HEADER) or self.server.planned_fault(host)
            response = respond(self.server.contracts, request, fault=fault)
        except ValueError as exc:  # unknown fault name: a harness bug, say so plainly
            response = SimResponse(400, {"content-type": "text/plain; charset=utf-8"}, [f"simulator: {exc}\n".encode()])
        except Exception:  # pragma: no cover - a simulator bug; show it instead of hanging the client
            text = "simulator error:\n" + traceback.format_exc()
            response = SimResponse(500, {"content-type": "text/plain; charset=utf-8"}, [text.encode()])
        self.server.log.append((request, response))
        self._send(response)

    def _send(self, response: SimResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        streamed = len(response.chunks) > 1
        if streamed:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        try:
            if not streamed:
                self.wfile.write(response.body)
                self.wfile.flush()
            else:
                for chunk in response.chunks:
                    if not chunk:
                        continue
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    if self.server.chunk_delay:
                        time.sleep(self.server.chunk_delay)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    contracts: dict[str, dict[str, Any]]
    chunk_delay: float
    verbose: bool
    log: deque[tuple[SimRequest, SimResponse]]
    planned: dict[str, deque[str]]
    planned_lock: threading.Lock

    def planned_fault(self, host: str) -> str | None:
        """The next fault planned for ``host`` (port ignored), consumed; None when none is left."""
        name = host.rsplit(":", 1)[0].lower() if not host.endswith("]") else host.lower()
        with self.planned_lock:
            queue = self.planned.get(name)
            return queue.popleft() if queue else None


class SimulatorServer:
    """``with SimulatorServer(contracts) as server: ... server.port``

    ``chunk_delay`` pauses between stream chunks so a client sees them as separate network
    reads; ``log`` keeps every (request, response) served."""

    def __init__(self, contracts: dict[str, dict[str, Any]], *, host: str = "127.0.0.1", port: int = 0,
                 chunk_delay: float = 0.002, verbose: bool = False, log_size: int = 200) -> None:  # fmt: skip
        self.contracts = contracts
        self._address = (host, port)
        self.chunk_delay = chunk_delay
        self.verbose = verbose
        self.log_size = log_size
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._planned: dict[str, deque[str]] = {}
        self._planned_lock = threading.Lock()

    def plan_faults(self, host: str, *faults: str) -> None:
        """Answer the next requests to ``host`` with ``faults`` (fault names, in order), then
        normally again: for clients that cannot send the fault header."""
        for fault in faults:
            check_fault(fault)  # an unknown name is a bug in the caller: fail here, not mid-run
        with self._planned_lock:
            self._planned.setdefault(host.lower(), deque()).extend(faults)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator server is not running")
        return self._server.server_address[1]

    @property
    def host(self) -> str:
        return self._address[0]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log(self) -> list[tuple[SimRequest, SimResponse]]:
        """The last ``log_size`` (request, response) pairs served."""
        return list(self._server.log) if self._server is not None else []

    def start(self) -> SimulatorServer:
        if self._server is not None:
            return self
        server = _Server(self._address, _Handler)
        server.contracts = self.contracts
        server.chunk_delay = self.chunk_delay
        server.verbose = self.verbose
        server.log = deque(maxlen=self.log_size)
        server.planned = self._planned
        server.planned_lock = self._planned_lock
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="provider-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
