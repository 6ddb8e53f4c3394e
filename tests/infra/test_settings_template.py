"""The root .env.template documents every setting the backend and the frontend read."""

from __future__ import annotations

from backend.settings import Settings
from tests.infra.static_files import REPO_ROOT, env_template

FRONTEND_VARIABLES = {"BACKEND_URL", "GUEST_VIEWER_TOKEN", "LOG_DIR"}


def test_every_setting_is_documented() -> None:
    documented = set(env_template(REPO_ROOT / ".env.template"))
    backend_variables = {name.upper() for name in Settings.model_fields}
    missing = (backend_variables | FRONTEND_VARIABLES) - documented
    assert not missing, f"add these to .env.template with a comment line: {sorted(missing)}"


def test_template_holds_no_secrets() -> None:
    for name, value in env_template(REPO_ROOT / ".env.template").items():
        if "TOKEN" in name or "PASSWORD" in name:
            assert value == "", f"{name} must be empty in the template"
