"""Start and stop the servers under test: our backend (uvicorn) and MLflow's scoring server.

Each server runs in its own session (process group), so stopping it also ends whatever it
spawned (fit workers, MLflow's uvicorn child) without touching any other process.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as `python bench/run_bench.py`: only bench/ is there
    sys.path.append(str(REPO_ROOT))
MLFLOW_VENV = REPO_ROOT / "bench" / ".venv-mlflow"

# The server-process wrapper is the tests' own: one copy for both.
from tests.servers import (  # noqa: E402
    ServerProcess,
    free_port,
    spawn_server,
    uvicorn_command,
    wait_http,
)

__all__ = [
    "MLFLOW_VENV",
    "REPO_ROOT",
    "ServerProcess",
    "backend_env",
    "free_port",
    "rss_bytes",
    "serving_process",
    "start_backend",
    "start_mlflow",
    "wait_http",
]


def serving_process(server: ServerProcess) -> psutil.Process:
    """The process that holds the model: the newest uvicorn in the server's group."""
    root = psutil.Process(server.process.pid)
    uvicorns = [p for p in [root, *root.children(recursive=True)] if _is_uvicorn(p)]
    return max(uvicorns, key=lambda p: p.create_time()) if uvicorns else root


def rss_bytes(server: ServerProcess) -> int:
    return int(serving_process(server).memory_info().rss)


def _is_uvicorn(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return any("uvicorn" in part for part in process.cmdline())
    return False


def backend_env(data_dir: Path, *, default_models: bool, fit_workers: int | None) -> dict[str, str]:
    """The environment of our backend: only the bench's settings, none inherited."""
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


def start_backend(
    work_dir: Path, name: str, env: dict[str, str], workers: int = 1
) -> ServerProcess:
    """`uvicorn backend.main:app --workers N`, run from `work_dir` so no `.env` is read."""
    port = free_port()
    return spawn_server(
        uvicorn_command(port, workers),
        port=port,
        env=env,
        cwd=work_dir,
        log_path=work_dir / f"{name}.log",
    )


def start_mlflow(work_dir: Path, model_dir: Path) -> ServerProcess:
    """`mlflow models serve --env-manager local -w 1` from the bench-only virtual environment.

    MLflow execs `uvicorn` found on PATH, so the venv's bin must come first: otherwise the
    project's own uvicorn starts, without mlflow importable.
    """
    env = dict(os.environ)
    env["PATH"] = f"{MLFLOW_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    env["VIRTUAL_ENV"] = str(MLFLOW_VENV)
    port = free_port()
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
        str(port),
        "--workers",
        "1",
    ]
    return spawn_server(command, port=port, env=env, cwd=work_dir, log_path=work_dir / "mlflow.log")
