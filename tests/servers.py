"""Start real servers (uvicorn backend, streamlit frontend) on free ports.

The one copy of the server-process wrapper: the tests use it, and so does bench/servers.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A server started as a child process in a session of its own (so stopping it ends what
    it spawned, fit workers included, and nothing else); `log_path` holds its output."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the server's process group (SIGKILL after `timeout`), then SIGKILL what
        the server had started and left behind."""
        if self.process.poll() is not None:
            return
        try:
            started = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            started = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)
        for child in started:
            # psutil checks the start time, so a pid reused by someone else is left alone.
            with contextlib.suppress(psutil.Error):
                child.kill()

    def kill(self) -> None:
        """SIGKILL the server's main process only, as a crash would."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(15)

    def kill_group(self) -> None:
        """SIGKILL the server and every process it started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(15)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def spawn_server(
    command: list[str], *, port: int, env: dict[str, str], cwd: Path, log_path: Path
) -> ServerProcess:
    """Start `command` (a server listening on `port`) in its own session, output to `log_path`."""
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return ServerProcess(f"http://127.0.0.1:{port}", process, log_path, env)


def uvicorn_command(port: int, workers: int = 1) -> list[str]:
    """`uvicorn backend.main:app` on 127.0.0.1:`port` with `workers` processes."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "backend.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def backend_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "DATABASE_URL"))}
    env.update(
        DATA_DIR=str(data_dir),
        LOG_DIR=str(data_dir / "log"),
        DEFAULT_MODELS_ROWS="4000",
        FIT_WORKERS="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def start_backend(
    data_dir: Path,
    *,
    workers: int = 1,
    wait_ready: bool = True,
    timeout: float = 180,
    **env_overrides: str,
) -> ServerProcess:
    """Start `uvicorn backend.main:app` on a free port and wait for /ready (or /health)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = spawn_server(
        uvicorn_command(port, workers),
        port=port,
        env=backend_env(data_dir, **env_overrides),
        cwd=REPO_ROOT,
        log_path=data_dir / f"uvicorn-{port}.log",
    )
    wait_http(server, "/ready" if wait_ready else "/health", timeout)
    return server


def start_frontend(
    backend_url: str, log_dir: Path, *, timeout: float = 60, **env_overrides: str
) -> ServerProcess:
    """`streamlit run frontend/app.py` on a free port against `backend_url`; waits for health."""
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("API_")}
    env.update(
        BACKEND_URL=backend_url,
        LOG_DIR=str(log_dir),
        PYTHONUNBUFFERED="1",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    env.update(env_overrides)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO_ROOT / "frontend" / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
    ]
    server = spawn_server(
        command, port=port, env=env, cwd=REPO_ROOT, log_path=log_dir / f"streamlit-{port}.log"
    )
    wait_http(server, "/_stcore/health", timeout)
    return server


def wait_http(server: ServerProcess, path: str, timeout: float) -> None:
    """Poll GET `path` until it answers 200; otherwise stop the server and fail with its log."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            response = httpx.get(server.url + path, timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{path} not ready after {timeout}s ({last}):\n{server.log()}")


def copy_data_dir(source: Path, target: Path) -> None:
    """Copy a stopped server's DATA_DIR (database, datasets, model files) without its logs."""
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns("log", "uvicorn-*.log", ".defaults.lock")
    )


def fit_worker_pids(server: ServerProcess) -> list[int]:
    """Pids of the fit pool workers under `server`: spawned processes without spawned children.

    (With `--workers N` uvicorn's own workers are spawned too, but they have fit workers below.)
    """
    spawned: dict[int, psutil.Process] = {}
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if (
                "spawn_main" in " ".join(child.cmdline())
                and child.is_running()
                and child.name() != "toxiclf-eval"  # the evaluation worker, not a fit
            ):
                spawned[child.pid] = child
        except psutil.Error:
            continue
    parents = set()
    for child in spawned.values():
        try:
            parents.add(child.ppid())
        except psutil.Error:
            continue
    return sorted(pid for pid in spawned if pid not in parents)
