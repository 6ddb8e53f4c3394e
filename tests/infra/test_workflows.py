"""Static checks of the GitHub Actions workflows."""

from __future__ import annotations

from typing import Any

from tests.infra.static_files import REPO_ROOT, load_yaml

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads a bare `on` key as the boolean True.
    return workflow.get("on") or workflow[True]


def run_lines(workflow: dict[str, Any]) -> str:
    return "\n".join(
        step.get("run", "") for job in workflow["jobs"].values() for step in job.get("steps", [])
    )


def test_ci_lints_and_tests_on_push_and_pull_request() -> None:
    workflow = load_yaml(WORKFLOWS / "ci.yml")
    assert {"push", "pull_request"} <= set(triggers(workflow))
    commands = run_lines(workflow)
    assert "ruff check ." in commands
    assert "bash .ci/run" in commands
    setup_python = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("actions/setup-python")
    ]
    assert setup_python and setup_python[0]["with"]["python-version"] == "3.11"


def test_release_pushes_both_images_with_version_and_latest() -> None:
    workflow = load_yaml(WORKFLOWS / "release.yml")
    assert triggers(workflow)["push"]["tags"], "release runs on version tags"
    images = workflow["jobs"]["images"]
    assert images["strategy"]["matrix"]["component"] == ["backend", "frontend"]
    steps = {str(step.get("uses", "")).split("@")[0]: step for step in images["steps"]}
    meta = steps["docker/metadata-action"]["with"]
    assert meta["images"].endswith("/toxiclf-${{ matrix.component }}")
    assert "type=semver,pattern={{version}}" in meta["tags"]
    assert "type=raw,value=latest" in meta["tags"]
    build = steps["docker/build-push-action"]["with"]
    assert build["push"] is True
    assert build["context"] == "."
    assert build["file"] == "${{ matrix.component }}/Dockerfile"
    assert images["permissions"]["packages"] == "write"


def test_release_runs_ci_first() -> None:
    workflow = load_yaml(WORKFLOWS / "release.yml")
    assert workflow["jobs"]["ci"]["uses"] == "./.github/workflows/ci.yml"
    assert workflow["jobs"]["images"]["needs"] == "ci"
    assert "workflow_call" in triggers(load_yaml(WORKFLOWS / "ci.yml"))
