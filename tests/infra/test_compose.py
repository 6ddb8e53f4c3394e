"""Static checks of the compose stacks in infra/ (production) and infra-dev/ (development)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.nginx_local import NGINX_TEMPLATE, template_variables
from tests.infra.static_files import (
    REPO_ROOT,
    compose_variables,
    env_template,
    is_named_volume,
    load_yaml,
    mounts,
)

PROD = REPO_ROOT / "infra" / "docker-compose.yml"
DEV = REPO_ROOT / "infra-dev" / "docker-compose.yml"
TEMPLATES = {
    PROD: REPO_ROOT / "infra" / ".env.template",
    DEV: REPO_ROOT / "infra-dev" / ".env.dev.template",
}
# Container paths that hold state, per service: each must be a named volume.
STATE_PATHS = {
    "backend": ["/data", "/models", "/logs"],
    "frontend": ["/logs"],
    "postgres": ["/var/lib/postgresql/data"],
}
BOTH = pytest.mark.parametrize("compose_path", [PROD, DEV], ids=["infra", "infra-dev"])


def services(compose_path: Path) -> dict[str, dict[str, Any]]:
    return load_yaml(compose_path)["services"]


@BOTH
def test_every_service_has_an_image_or_a_build_and_a_healthcheck(compose_path: Path) -> None:
    for name, service in services(compose_path).items():
        assert "image" in service or "build" in service, f"{name}: neither image nor build"
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name}: no healthcheck"
        assert service["healthcheck"].get("disable") is not True, f"{name}: healthcheck disabled"


@BOTH
def test_state_lives_in_declared_named_volumes(compose_path: Path) -> None:
    compose = load_yaml(compose_path)
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        service_mounts = mounts(service)
        for path in STATE_PATHS.get(name, []):
            assert path in service_mounts, f"{name}: {path} is not on a volume"
            assert is_named_volume(service_mounts[path]), f"{name}: {path} is a bind mount"
        for source in service_mounts.values():
            if is_named_volume(source):
                assert source in declared, f"{name}: volume {source} is not declared"


@BOTH
def test_backend_paths_point_into_the_volumes(compose_path: Path) -> None:
    backend = services(compose_path)["backend"]
    environment = backend["environment"]
    service_mounts = mounts(backend)
    for variable in ("DATA_DIR", "MODELS_DIR", "LOG_DIR"):
        assert environment[variable] in service_mounts, f"backend {variable} is not a volume"
    frontend = services(compose_path)["frontend"]
    assert frontend["environment"]["LOG_DIR"] in mounts(frontend)
    assert frontend["environment"]["BACKEND_URL"] == "http://backend:8000"


@BOTH
def test_frontend_and_nginx_wait_for_healthy_upstreams(compose_path: Path) -> None:
    stack = services(compose_path)
    assert stack["frontend"]["depends_on"]["backend"]["condition"] == "service_healthy"
    for upstream in ("backend", "frontend"):
        assert stack["nginx"]["depends_on"][upstream]["condition"] == "service_healthy"


@BOTH
def test_nginx_renders_the_project_template_with_every_variable(compose_path: Path) -> None:
    nginx = services(compose_path)["nginx"]
    template_mount = "/etc/nginx/templates/default.conf.template"
    source = mounts(nginx)[template_mount]
    assert (compose_path.parent / source).resolve() == NGINX_TEMPLATE
    missing = template_variables(NGINX_TEMPLATE.read_text()) - set(nginx["environment"])
    assert not missing, f"nginx environment lacks template variables {sorted(missing)}"
    assert nginx["environment"]["BACKEND_UPSTREAM"] == "backend:8000"
    assert nginx["environment"]["FRONTEND_UPSTREAM"] == "frontend:8501"
    published = [str(port) for port in nginx["ports"]]
    assert all(port.endswith(":" + str(nginx["environment"]["NGINX_PORT"])) for port in published)


@BOTH
def test_upload_limit_is_the_same_everywhere(compose_path: Path) -> None:
    stack = services(compose_path)
    limit = stack["backend"]["environment"]["MAX_UPLOAD_MB"]
    assert "MAX_UPLOAD_MB" in limit
    assert stack["nginx"]["environment"]["MAX_UPLOAD_MB"] == limit
    assert stack["frontend"]["environment"]["STREAMLIT_SERVER_MAX_UPLOAD_SIZE"] == limit


@BOTH
def test_every_variable_is_documented_in_the_template(compose_path: Path) -> None:
    documented = env_template(TEMPLATES[compose_path])
    used = compose_variables(compose_path)
    assert used - set(documented) == set(), "used in compose, missing from the template"
    assert set(documented) - used == set(), "documented in the template, unused in compose"


@BOTH
def test_templates_hold_no_secrets(compose_path: Path) -> None:
    for name, value in env_template(TEMPLATES[compose_path]).items():
        if any(word in name for word in ("PASSWORD", "TOKEN", "SECRET")):
            assert value == "", f"{name} must be left empty in the template, not {value!r}"


def test_production_publishes_only_nginx() -> None:
    published = [name for name, service in services(PROD).items() if "ports" in service]
    assert published == ["nginx"]
    for name, service in services(PROD).items():
        assert service.get("network_mode") != "host", name
        assert "build" not in service, f"{name}: production pulls images, it does not build"


def test_production_restarts_and_rotates_logs() -> None:
    for name, service in services(PROD).items():
        assert service.get("restart") in {"unless-stopped", "always"}, name
        logging = service.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert logging["options"].get("max-size") and logging["options"].get("max-file"), name


def test_production_pulls_versioned_images() -> None:
    stack = services(PROD)
    for component in ("backend", "frontend"):
        image = stack[component]["image"]
        assert image.startswith("${IMAGE_REGISTRY"), image
        assert f"}}/toxiclf-{component}:${{IMAGE_TAG" in image, image


def test_production_backend_uses_postgres() -> None:
    stack = services(PROD)
    url = stack["backend"]["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url, url
    assert stack["backend"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    postgres = stack["postgres"]
    # Overridable for registry-less hosts (scripts/build-images.sh), the official image by default.
    assert postgres["image"].startswith("${POSTGRES_IMAGE:-postgres:"), postgres["image"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    for variable in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert "${" + variable in url and "${" + variable in postgres["environment"][variable]


def test_production_refuses_to_start_without_secrets() -> None:
    text = PROD.read_text()
    for variable in ("IMAGE_REGISTRY", "POSTGRES_PASSWORD", "API_TOKENS"):
        assert "${" + variable + ":?" in text, f"{variable} should be required (${{{variable}:?}})"


def test_web_ui_holds_no_shared_token() -> None:
    # Users sign in with their own token; at most an optional viewer token for guest mode.
    for path in (PROD, DEV):
        frontend = services(path)["frontend"]["environment"]
        assert "API_TOKEN" not in frontend and "FRONTEND_API_TOKEN" not in path.read_text()
        assert frontend.get("GUEST_VIEWER_TOKEN") == "${GUEST_VIEWER_TOKEN:-}", frontend
    for template in (PROD.parent / ".env.template", DEV.parent / ".env.dev.template"):
        assert "FRONTEND_API_TOKEN" not in template.read_text()


def test_development_builds_both_images_from_the_repo() -> None:
    stack = services(DEV)
    for component in ("backend", "frontend"):
        build = stack[component]["build"]
        context = (DEV.parent / build["context"]).resolve()
        assert context == REPO_ROOT
        assert (context / build["dockerfile"]) == REPO_ROOT / component / "Dockerfile"
