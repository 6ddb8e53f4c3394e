"""Disk full and unwritable directories: a clear 507/503 with `detail`, a fit that cannot write
its model file fails its task with a readable error, no corrupt or partial files, and the
service works again once the disk has room.

The full disks are small tmpfs mounts and the unwritable ones read-only bind mounts, so these
tests need root (or password-less sudo), as CI has."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import StartServer
from tests.reliability.conftest import upload_csv, wait_task
from tests.servers import ServerProcess

Mount = Callable[..., Path]


def _run_as_root(*command: str) -> None:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=30)


@pytest.fixture()
def mount(tmp_path: Path) -> Iterator[Mount]:
    """`mount(path, size_mb)` a fresh tmpfs; `mount(path, readonly=True)` a read-only bind of
    `path` onto itself. Everything is unmounted at the end of the test."""
    mounted: list[Path] = []

    def do_mount(path: Path, size_mb: int = 0, readonly: bool = False) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        if readonly:
            _run_as_root("mount", "--bind", str(path), str(path))
            mounted.append(path)
            _run_as_root("mount", "-o", "remount,bind,ro", str(path))
        else:
            _run_as_root("mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path))
            mounted.append(path)
        return path

    yield do_mount
    for path in reversed(mounted):
        with contextlib.suppress(subprocess.CalledProcessError):
            _run_as_root("umount", "-l", str(path))


def _fill(directory: Path) -> Path:
    """Write a filler file until the file system is full; return it (delete it to free)."""
    filler = directory / "filler.bin"
    block = b"\0" * (256 * 1024)
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(block)
                handle.flush()
        except OSError:
            pass
    # the last partial block may leave some bytes: take them too
    with contextlib.suppress(OSError), filler.open("ab") as handle:
        while True:
            handle.write(b"\0" * 1024)
            handle.flush()
    return filler


def _sha_of_files(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in directory.iterdir()
        if p.is_file() and p.name != "filler.bin"
    }


def _predicts(server: ServerProcess) -> None:
    response = httpx.post(
        f"{server.url}/api/v1/models/predict",
        timeout=30,
        json={"model_id": "default-logreg", "texts": ["fine", "awful"]},
    )
    assert response.status_code == 200, response.text


def _fit(server: ServerProcess, name: str) -> dict[str, object]:
    response = httpx.post(
        f"{server.url}/api/v1/models/fit",
        timeout=30,
        json={"name": name, "dataset_id": "sample-toxic-en", "model_type": "mnb"},
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


@pytest.fixture()
def split_server(
    seed_data_dir: Path, tmp_path: Path, mount: Mount, start_server: StartServer
) -> tuple[ServerProcess, Path, Path]:
    """A server whose DATA_DIR and MODELS_DIR are two small tmpfs mounts."""
    data_dir = mount(tmp_path / "data-disk", 48)
    # Room for the default models (word+char features: ~17 MB at 4,000 rows) and one fit.
    models_dir = mount(tmp_path / "models-disk", 64)
    for item in seed_data_dir.iterdir():
        if item.name == "models":
            for model in item.iterdir():
                shutil.copy2(model, models_dir / model.name)
        elif item.is_dir():
            shutil.copytree(item, data_dir / item.name)
        elif item.suffix == ".db":
            shutil.copy2(item, data_dir / item.name)
    server = start_server(data_dir, MODELS_DIR=str(models_dir), LOG_DIR=str(tmp_path / "log"))
    return server, data_dir, models_dir


def test_models_disk_full(split_server: tuple[ServerProcess, Path, Path], small_csv: Path) -> None:
    server, _data_dir, models_dir = split_server
    before = _sha_of_files(models_dir)
    filler = _fill(models_dir)

    accepted = _fit(server, "no-room")
    task = wait_task(server.url, str(accepted["task_id"]), timeout=120)
    assert task["status"] == "failed", task
    assert "no space left" in task["error"].lower(), task["error"]
    model = httpx.get(f"{server.url}/api/v1/models/{accepted['model_id']}", timeout=30).json()
    assert model["status"] == "failed"

    skops = next(models_dir.glob("default-logreg.skops")).read_bytes()
    uploaded = httpx.post(
        f"{server.url}/api/v1/models/upload",
        timeout=60,
        data={"name": "up"},
        files={"file": ("m.skops", skops, "application/octet-stream")},
    )
    assert uploaded.status_code == 507, uploaded.text
    assert "disk is full" in uploaded.json()["detail"]

    _predicts(server)
    assert _sha_of_files(models_dir) == before, "model files changed or partial files left"

    filler.unlink()
    again = _fit(server, "room-again")
    assert wait_task(server.url, str(again["task_id"]), timeout=120)["status"] == "succeeded"


def test_data_disk_full(split_server: tuple[ServerProcess, Path, Path], small_csv: Path) -> None:
    server, data_dir, _models_dir = split_server
    listed = httpx.get(f"{server.url}/api/v1/datasets", timeout=30).json()
    before = _sha_of_files(data_dir / "datasets")
    filler = _fill(data_dir)

    response = upload_csv(server, small_csv.read_bytes(), "small.csv")
    assert response.status_code == 507, response.text
    assert "disk is full" in response.json()["detail"]
    assert httpx.get(f"{server.url}/api/v1/datasets", timeout=30).json() == listed
    assert _sha_of_files(data_dir / "datasets") == before
    assert list((data_dir / "uploads").iterdir()) == []
    _predicts(server)
    assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200

    filler.unlink()
    assert upload_csv(server, small_csv.read_bytes(), "small.csv").status_code == 201


def test_unwritable_directories(
    split_server: tuple[ServerProcess, Path, Path], mount: Mount, small_csv: Path
) -> None:
    server, data_dir, models_dir = split_server
    mount(data_dir / "datasets", readonly=True)
    mount(models_dir, readonly=True)

    response = upload_csv(server, small_csv.read_bytes(), "small.csv")
    assert response.status_code == 503, response.text
    assert "not usable" in response.json()["detail"]
    assert "Read-only" in response.json()["detail"]

    accepted = _fit(server, "read-only")
    task = wait_task(server.url, str(accepted["task_id"]), timeout=120)
    assert task["status"] == "failed", task
    assert "read-only file system" in task["error"].lower(), task["error"]
    _predicts(server)
    assert list((data_dir / "uploads").iterdir()) == []
