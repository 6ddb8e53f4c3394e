"""Start real servers (uvicorn backend, streamlit frontend) on free ports for tests."""

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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A server started as a child process; `log_path` holds its stdout and stderr."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)

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
    env = backend_env(data_dir, **env_overrides)
    log_path = data_dir / f"uvicorn-{port}.log"
    cmd = [
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
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log_path, env)
    wait_http(server, "/ready" if wait_ready else "/health", timeout)
    return server


def wait_http(server: ServerProcess, path: str, timeout: float) -> None:
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
