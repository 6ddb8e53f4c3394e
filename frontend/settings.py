"""Frontend settings, the only place that reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class FrontendSettings(BaseSettings):
    """Where the backend is, the optional guest mode, where to log.

    There is no privileged token here: every visitor signs in with their own API token, kept
    in their browser session only (frontend/auth.py).
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    backend_url: str = "http://127.0.0.1:8000"
    # Read-only guest mode, off when empty: a *viewer* token the app uses for visitors who
    # choose "Continue as guest". The app refuses it if the backend says it is not a viewer's.
    guest_viewer_token: SecretStr | None = None
    log_dir: Path = Path("var/log")
    log_level: str = "INFO"
    # Fits and evaluations of big datasets can take a while; reads are quick.
    request_timeout_s: float = Field(60.0, gt=0)

    @field_validator("backend_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("guest_viewer_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


def load_settings() -> FrontendSettings:
    """Read settings afresh (cheap), so a changed environment applies on the next rerun."""
    return FrontendSettings()
