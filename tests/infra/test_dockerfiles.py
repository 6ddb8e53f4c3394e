"""Static checks of the two Dockerfiles and the build context's .dockerignore."""

from __future__ import annotations

import ast
import fnmatch
import json
from pathlib import Path

import pytest

from tests.infra.static_files import REPO_ROOT, DockerStage, dockerfile_stages

PORTS = {"backend": "8000", "frontend": "8501"}
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "-dev ", "git ")
COMPONENTS = pytest.mark.parametrize("component", ["backend", "frontend"])


def stages(component: str) -> list[DockerStage]:
    return dockerfile_stages(REPO_ROOT / component / "Dockerfile")


def dockerignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(relative_path: str) -> bool:
    """Whether .dockerignore leaves `relative_path` out of the context (last match wins)."""
    ignored = False
    for pattern in dockerignore_patterns():
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = Path(relative_path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes):
            ignored = not negated
    return ignored


@COMPONENTS
def test_slim_python_bases(component: str) -> None:
    for stage in stages(component):
        assert stage.base.startswith("python:") and "slim" in stage.base, stage.base


@COMPONENTS
def test_final_stage_runs_as_a_non_root_user(component: str) -> None:
    users = stages(component)[-1].arguments("USER")
    assert users, "the final stage never sets USER, so it runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, users[-1]


@COMPONENTS
def test_final_stage_has_healthcheck_command_and_port(component: str) -> None:
    final = stages(component)[-1]
    healthcheck = final.arguments("HEALTHCHECK")
    assert healthcheck and f"127.0.0.1:{PORTS[component]}/" in healthcheck[-1]
    assert final.arguments("EXPOSE") == [PORTS[component]]
    command = json.loads(final.arguments("CMD")[-1])
    assert PORTS[component] in command


@COMPONENTS
def test_no_build_tools_in_the_image(component: str) -> None:
    """Dependencies come as wheels into the virtualenv; no compiler or -dev package is
    installed, and pip keeps no cache."""
    for stage in stages(component):
        for command in stage.arguments("RUN"):
            for tool in BUILD_TOOLS:
                assert tool not in command + " ", f"installs {tool.strip()}: {command}"
        assert "PIP_NO_CACHE_DIR=1" in " ".join(stage.arguments("ENV"))


@COMPONENTS
def test_dependencies_are_a_layer_of_their_own(component: str) -> None:
    """pyproject.toml alone is copied and installed before the code, so code edits reuse it."""
    (stage,) = stages(component)
    steps = [f"{keyword} {argument}" for keyword, argument in stage.instructions]
    copy_pyproject = steps.index("COPY pyproject.toml /tmp/pyproject.toml")
    install = next(
        i
        for i, step in enumerate(steps)
        if step.startswith("RUN") and "-r /tmp/requirements" in step
    )
    copy_code = next(i for i, step in enumerate(steps) if step.startswith(f"COPY {component}/"))
    assert copy_pyproject < install < copy_code
    # One environment for both images: the extras of both components.
    assert "o['backend'] + o['frontend']" in steps[install]


def test_both_images_start_with_the_same_layers() -> None:
    """Identical text up to the end of the dependency layer: the second image built reuses the
    first one's layers from the build cache (tests/containers checks the built images)."""
    marker = "# --- end of the shared part"
    prefixes = {}
    for component in ("backend", "frontend"):
        text = (REPO_ROOT / component / "Dockerfile").read_text()
        prefixes[component] = text[text.index("ARG PYTHON_IMAGE") : text.index(marker)]
    assert prefixes["backend"] == prefixes["frontend"]
    assert "pip install -r /tmp/requirements.txt" in prefixes["backend"]


@COMPONENTS
def test_copied_sources_are_in_the_build_context(component: str) -> None:
    for stage in stages(component):
        for argument in stage.arguments("COPY"):
            if argument.startswith("--from"):
                continue
            for source in argument.split()[:-1]:
                assert (REPO_ROOT / source).exists(), f"COPY {source}: no such path"
                assert not is_ignored(source.rstrip("/")), f"COPY {source}: in .dockerignore"


def local_packages_imported_by(component: str) -> set[str]:
    """The repository's top-level packages that `component`'s code imports."""
    local = {path.name for path in REPO_ROOT.iterdir() if (path / "__init__.py").is_file()}
    imported = set()
    for source in (REPO_ROOT / component).rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    return imported & local


@COMPONENTS
def test_every_local_package_imported_is_copied(component: str) -> None:
    """Packages shared by both images (toxiclf_logging, toxiclf_csv) are copied into each."""
    copied = {
        source.rstrip("/")
        for stage in stages(component)
        for argument in stage.arguments("COPY")
        for source in argument.split()[:-1]
    }
    imported = local_packages_imported_by(component)
    assert {"toxiclf_logging", "toxiclf_csv"} <= imported
    assert imported <= copied, f"imported but not copied: {imported - copied}"
    # The frontend reaches the backend over HTTP only.
    assert "backend" not in local_packages_imported_by("frontend")


def test_dockerignore_keeps_secrets_and_clutter_out() -> None:
    for path in (".git", ".env", "var", "tests", "backend/__pycache__", "infra"):
        assert is_ignored(path), f"{path} would be sent to the build context"
    for path in ("pyproject.toml", "README.md", "backend/main.py", "frontend/app.py"):
        assert not is_ignored(path), f"{path} is needed by the build"


def test_backend_image_has_the_postgres_driver() -> None:
    install = next(
        command for command in stages("backend")[0].arguments("RUN") if "requirements" in command
    )
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert "psycopg" in install or "psycopg" in pyproject


def test_frontend_image_ships_nltk_data() -> None:
    final = stages("frontend")[-1]
    assert "docker/nltk_data/ /usr/share/nltk_data/" in final.arguments("COPY")
    assert any("nltk_setup.py /usr/share/nltk_data" in run for run in final.arguments("RUN"))
    assert "NLTK_DATA=/usr/share/nltk_data" in " ".join(final.arguments("ENV"))


def test_backend_image_gets_every_backend_file() -> None:
    """The backend image runs from the installed package, which has only .py files and the
    package data that pyproject.toml lists: any other file the backend reads must be listed."""
    import tomllib

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    package_data = pyproject["tool"]["setuptools"].get("package-data", {}).get("backend", [])
    backend_dir = REPO_ROOT / "backend"
    for path in backend_dir.rglob("*"):
        relative = path.relative_to(backend_dir).as_posix()
        if path.is_dir() or path.suffix in {".py", ".pyc"} or "__pycache__" in relative:
            continue
        if relative == "Dockerfile":
            continue
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in package_data), (
            f"backend/{relative} would be missing from the image: add it to package-data"
        )
