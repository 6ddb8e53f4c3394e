"""Start and stop the servers under test: our backend (uvicorn) and MLflow's scoring server.

Each server runs in its own session (process group), so stopping it also ends whatever it
spawned (fit workers, MLflow's uvicorn child) without touching any other process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
MLFLOW_VENV = REPO_ROOT / "bench" / ".venv-mlflow"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until(self, path: str, timeout_s: float) -> None:
        """Poll GET `path` until it answers 200; fail with the log's tail otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def serving_process(self) -> psutil.Process:
        """The process that holds the model: the newest uvicorn in the server's group."""
        root = psutil.Process(self.process.pid)
        uvicorns = [p for p in [root, *root.children(recursive=True)] if _is_uvicorn(p)]
        return max(uvicorns, key=lambda p: p.create_time()) if uvicorns else root

    def rss_bytes(self) -> int:
        return int(self.serving_process().memory_info().rss)

    def stop(self, timeout_s: float = 15) -> None:
        """SIGTERM the server's process group, then SIGKILL whatever is left of it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout_s)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def _is_uvicorn(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return any("uvicorn" in part for part in process.cmdline())
    return False


def _spawn(name: str, command: list[str], env: dict[str, str], cwd: Path) -> Server:
    port = int(command[command.index("--port") + 1]) if "--port" in command else 0
    log_path = cwd / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Server(name, process, port, log_path)


def backend_env(data_dir: Path, *, default_models: bool, fit_workers: int | None) -> dict[str, str]:
    """The environment of our backend: only the bench's settings, none inherited."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
    from backend.settings import Settings  # the repo's own settings, for their names only

    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "DATA_DIR": str(data_dir),
            "LOG_DIR": str(data_dir.parent / "log"),
            "DEFAULT_MODELS": "true" if default_models else "false",
            "API_TOKENS": "",
        }
    )
    if fit_workers is not None:
        env["FIT_WORKERS"] = str(fit_workers)
    return env


def start_backend(work_dir: Path, name: str, env: dict[str, str], workers: int = 1) -> Server:
    """`uvicorn backend.main:app --workers N`, run from `work_dir` so no `.env` is read."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "backend.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        "--workers",
        str(workers),
    ]
    return _spawn(name, command, env, work_dir)


def start_mlflow(work_dir: Path, model_dir: Path) -> Server:
    """`mlflow models serve --env-manager local -w 1` from the bench-only virtual environment.

    MLflow execs `uvicorn` found on PATH, so the venv's bin must come first: otherwise the
    project's own uvicorn starts, without mlflow importable.
    """
    env = dict(os.environ)
    env["PATH"] = f"{MLFLOW_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    env["VIRTUAL_ENV"] = str(MLFLOW_VENV)
    command = [
        str(MLFLOW_VENV / "bin" / "mlflow"),
        "models",
        "serve",
        "-m",
        str(model_dir),
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        "--workers",
        "1",
    ]
    return _spawn("mlflow", command, env, work_dir)
