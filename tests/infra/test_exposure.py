"""Static checks of what the deployment exposes: forwarded headers trusted from nginx's network
only, the API's rate limits wired from the env templates, docs off in production."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra.nginx_local import NGINX_TEMPLATE
from tests.infra.static_files import REPO_ROOT, env_template, load_yaml

PROD = REPO_ROOT / "infra" / "docker-compose.yml"
DEV = REPO_ROOT / "infra-dev" / "docker-compose.yml"
BOTH = pytest.mark.parametrize("compose_path", [PROD, DEV], ids=["infra", "infra-dev"])
DEFAULT = re.compile(r"\$\{([A-Z_]+):-([^}]*)\}")


def resolved(value: str) -> str:
    """A compose value with every `${NAME:-default}` replaced by its default."""
    return DEFAULT.sub(lambda match: match[2], str(value))


def test_dockerfile_does_not_trust_every_forwarded_header() -> None:
    dockerfile = (REPO_ROOT / "backend" / "Dockerfile").read_text()
    assert '"*"' not in dockerfile and "forwarded-allow-ips *" not in dockerfile
    assert "--proxy-headers" in dockerfile
    assert "FORWARDED_ALLOW_IPS" in dockerfile
    run_script = (REPO_ROOT / "scripts" / "run.sh").read_text()
    assert "--forwarded-allow-ips" in run_script and '"*"' not in run_script


@BOTH
def test_backend_trusts_forwarded_headers_from_the_compose_subnet_only(
    compose_path: Path,
) -> None:
    stack = load_yaml(compose_path)
    trusted = resolved(stack["services"]["backend"]["environment"]["FORWARDED_ALLOW_IPS"])
    assert trusted != "*" and "*" not in trusted.split(",")
    subnets = [resolved(pool["subnet"]) for pool in stack["networks"]["default"]["ipam"]["config"]]
    assert trusted in subnets, (trusted, subnets)


@BOTH
def test_nginx_gets_the_rate_limits(compose_path: Path) -> None:
    environment = load_yaml(compose_path)["services"]["nginx"]["environment"]
    for name in ("NGINX_API_RATE", "NGINX_API_BURST", "NGINX_API_CONN", "NGINX_PREDICT_RATE"):
        assert int(resolved(environment[name])) > 0, name
    template = NGINX_TEMPLATE.read_text()
    assert "limit_req zone=" in template and "limit_conn " in template
    assert "Content-Security-Policy" in template


def test_docs_are_off_in_production_and_on_for_development() -> None:
    prod = load_yaml(PROD)["services"]["backend"]["environment"]["DOCS_ENABLED"]
    dev = load_yaml(DEV)["services"]["backend"]["environment"]["DOCS_ENABLED"]
    assert resolved(prod) == "false" and resolved(dev) == "true"
    assert env_template(REPO_ROOT / "infra" / ".env.template")["DOCS_ENABLED"] == "false"
