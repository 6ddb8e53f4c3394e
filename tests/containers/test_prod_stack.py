"""infra/docker-compose.yml, the production file operators `pull` and `up`: run with the
images this checkout builds, tagged as a release would name them
(`$IMAGE_REGISTRY/toxiclf-*:$IMAGE_TAG`), PostgreSQL, two replicas and required tokens.
`--pull never`: nothing comes from a registry, the file itself is what is tested.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.api_steps import DATASETS, ENDED, MODELS, TASKS
from tests.containers.stack import (
    REPO_ROOT,
    Stack,
    build_images,
    free_port,
    require_docker,
    run,
    wait_until,
)

REGISTRY = "registry.invalid/toxiclf"
TAG = "ci"
pytestmark = pytest.mark.timeout(2400)


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, dict[str, str]]]:
    require_docker()
    work = tmp_path_factory.mktemp("prod-stack")
    images = build_images()
    for component in ("backend", "frontend"):
        run(
            [
                "docker",
                "tag",
                images[f"{component.upper()}_IMAGE"],
                f"{REGISTRY}/toxiclf-{component}:{TAG}",
            ]
        )
    tokens = {"admin": secrets.token_hex(24), "viewer": secrets.token_hex(24)}
    settings = {
        "IMAGE_REGISTRY": REGISTRY,
        "IMAGE_TAG": TAG,
        "HTTP_PORT": str(free_port()),
        "BACKEND_REPLICAS": "2",
        "POSTGRES_IMAGE": images["POSTGRES_IMAGE"],
        "NGINX_IMAGE": images["NGINX_IMAGE"],
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "API_TOKENS": ",".join(f"{role}:{token}" for role, token in tokens.items()),
        # The default models' training is the development stack's test; here a fit of our own.
        "DEFAULT_MODELS": "false",
        "FIT_WORKERS": "1",
    }
    env_file = work / ".env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    stack = Stack(
        f"toxiclf-prod-{secrets.token_hex(3)}",
        REPO_ROOT / "infra" / "docker-compose.yml",
        env_file,
        int(settings["HTTP_PORT"]),
        # The shell's variables would override the env file's.
        {k: v for k, v in os.environ.items() if k not in settings},
    )
    try:
        stack.compose("up", "-d", "--pull", "never", "--wait", "--wait-timeout", "600", timeout=900)
        yield stack, tokens
    finally:
        stack.compose("down", "--volumes", timeout=300, check=False)


def test_production_stack_serves_through_nginx_with_tokens(
    prod: tuple[Stack, dict[str, str]], small_csv: Path
) -> None:
    stack, tokens = prod
    with stack.client() as anonymous:
        assert anonymous.get("/health").json()["status"] == "ok"
        wait_until(lambda: anonymous.get("/ready").status_code == 200, 120, "/ready")
        assert anonymous.get(f"{MODELS}/").status_code == 401
        assert "streamlit" in anonymous.get("/").text.lower()
    assert len(stack.container_ids("backend")) == 2

    with stack.client(tokens["admin"]) as admin, stack.client(tokens["viewer"]) as viewer:
        uploaded = admin.post(
            DATASETS, files={"file": ("small.csv", small_csv.read_bytes(), "text/csv")}
        )
        assert uploaded.status_code == 201, uploaded.text
        fit = admin.post(
            f"{MODELS}/fit",
            json={"name": "prod", "model_type": "logreg", "dataset_id": uploaded.json()["id"]},
        )
        assert fit.status_code == 202, fit.text
        task_id, model_id = fit.json()["task_id"], fit.json()["model_id"]
        wait_until(
            lambda: admin.get(f"{TASKS}/{task_id}").json()["status"] in ENDED, 180, "the fit ends"
        )
        assert admin.get(f"{TASKS}/{task_id}").json()["status"] == "succeeded"
        assert admin.post(f"{MODELS}/load", json={"model_id": model_id}).status_code == 200
        predicted = viewer.post(
            f"{MODELS}/predict", json={"model_id": model_id, "texts": ["hello there"]}
        )
        assert predicted.status_code == 200, predicted.text

    # The records are in the stack's PostgreSQL, not in a file of one replica.
    rows = stack.compose(
        "exec",
        "-T",
        "postgres",
        "psql",
        "-U",
        "toxiclf",
        "-d",
        "toxiclf",
        "-tAc",
        "SELECT count(*) FROM models",
    ).stdout
    assert int(rows.strip()) == 1, rows
