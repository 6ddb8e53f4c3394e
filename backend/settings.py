"""All backend settings, read once from the environment and `.env`.

This is the only module that reads the environment; everything else receives a `Settings`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Role = Literal["viewer", "editor", "admin"]
ROLE_RANK: dict[str, int] = {"viewer": 1, "editor": 2, "admin": 3}
# Shorter tokens can be guessed; the start-up check names the offending entry's role.
MIN_TOKEN_LENGTH = 16


def _default_fit_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Path("var/data")
    models_dir: Path | None = None
    log_dir: Path = Path("var/log")
    database_url: str | None = None
    log_level: str = "INFO"
    # uvicorn's line per request; off by default because nginx logs every request and
    # /metrics counts them, and the line costs ~6% of a prediction's time.
    access_log: bool = False

    max_upload_mb: float = Field(200, gt=0)
    max_predict_batch: int = Field(10_000, ge=1)
    max_json_body_mb: float = Field(64, gt=0)
    # Characters in all texts of one predict/predict_scores/explain/invocations request: a
    # pipeline's time grows with them (60 MB of text kept a model busy for 68 s). 1,000,000 is
    # about 3 s of the default models on one idle core, 2,500 comments of 400 characters.
    max_predict_chars: int = Field(1_000_000, ge=1)
    # The same for explain, which costs several times more per character (1,000,000 characters
    # of comments took 24 s and +171 MB on a busy machine).
    max_explain_chars: int = Field(200_000, ge=1)
    # Micro-batching of concurrent predictions for one model (see services/batching.py).
    batch_max_size: int = Field(512, ge=1)
    # 0: no deliberate wait, batches form behind the running call; measured on 2 cores with
    # 8 clients, a 2 ms window cut single-text throughput by ~20% and helped nothing.
    batch_max_wait_ms: float = Field(0.0, ge=0)
    # The fast predict path (api/fast_predict.py); off only to compare it with the routes.
    fast_predict: bool = True
    max_loaded_models: int = Field(10, ge=1)
    max_queued_fits: int = Field(32, ge=1)
    fit_timeout_s: float = Field(1800, gt=0)
    # Bounds that keep one request from taking the server down (SECURITY.md, "Limits").
    max_csv_columns: int = Field(100, ge=2)
    max_classes: int = Field(200, ge=2)
    # Rows of an uploaded CSV, counted (as lines) before parsing: 50 MB of short rows grew the
    # web process by 1.4 GB while pandas parsed them.
    max_dataset_rows: int = Field(1_000_000, ge=1)
    max_model_mb: float = Field(200, gt=0)
    evaluate_timeout_s: float = Field(60, gt=0)
    # predict_scores answers texts × classes numbers; more → 413 (a 200-class model scoring
    # 10,000 texts grew the web process by 410 MB and stalled it for 8 s).
    max_predict_scores: int = Field(200_000, ge=1)
    fit_workers: int = Field(default_factory=_default_fit_workers, ge=1)

    # Default models: trained from the bundled sample on first start, loaded at every start.
    default_models: bool = True
    default_models_rows: int = Field(0, ge=0, description="0 = the whole bundled sample")

    # Comma-separated `role:token` pairs; empty = open service.
    api_tokens: str = ""
    cors_origins: str = ""
    # /docs, /redoc and /openapi.json. On for development; a public production deployment may
    # turn it off so the route list is not published (clients then use API.md).
    docs_enabled: bool = True
    # Proxies whose X-Forwarded-For/-Proto uvicorn trusts (IPs or CIDR networks, comma-
    # separated). uvicorn reads this variable itself; it is here to be documented and checked.
    forwarded_allow_ips: str = "127.0.0.1,::1"
    log_prediction_texts: bool = False
    prediction_log_retention_days: int = Field(30, ge=0)
    # Budget of the prediction log (0 = none): past it the oldest rows are deleted.
    prediction_log_max_rows: int = Field(1_000_000, ge=0)
    prediction_log_max_mb: float = Field(1024, ge=0)
    # Drift (services/drift.py): PSI at or over the threshold on any feature is "drift"; a
    # window with fewer logged predictions than the minimum is "too_few" (PSI is noise there).
    drift_psi_threshold: float = Field(0.25, gt=0)
    drift_min_predictions: int = Field(200, ge=1)
    # The window /metrics and the drift route use when none is given, and how often /metrics
    # recomputes it per loaded model.
    drift_window_hours: float = Field(24, gt=0)
    drift_metrics_interval_s: float = Field(60, ge=0)

    # How often a process refreshes task heartbeats and polls the shared task table.
    task_poll_interval_s: float = Field(0.25, gt=0)
    task_stale_after_s: float = Field(30, gt=0)
    # How old a process's view of the loaded set and aliases may get without a change signal
    # (LISTEN/NOTIFY on PostgreSQL, a file's mtime on SQLite) before it re-reads the database.
    serving_recheck_s: float = Field(1.0, gt=0)

    fit_executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if self.models_dir is None:
            self.models_dir = self.data_dir / "models"
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'app.db').resolve()}"
        self.tokens_by_role()  # validate early: a malformed API_TOKENS refuses to start
        return self

    @property
    def artifacts_dir(self) -> Path:
        assert self.models_dir is not None
        return self.models_dir

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_model_bytes(self) -> int:
        return int(self.max_model_mb * 1024 * 1024)

    @property
    def max_json_body_bytes(self) -> int:
        return int(self.max_json_body_mb * 1024 * 1024)

    @property
    def db_url(self) -> str:
        assert self.database_url is not None
        return self.database_url

    def tokens_by_role(self) -> dict[str, str]:
        """Map token → role from `API_TOKENS` (`role:token,role:token`)."""
        roles: dict[str, str] = {}
        pairs = filter(None, (p.strip() for p in self.api_tokens.split(",")))
        for position, pair in enumerate(pairs, start=1):
            role, sep, token = pair.partition(":")
            if not sep or role not in ROLE_RANK or not token:
                raise ValueError(
                    "API_TOKENS must be comma-separated role:token pairs with role in "
                    f"viewer/editor/admin; entry {position} is not one"
                )
            if token.lower() in {"changeme", "change-me", "secret", "token"}:
                raise ValueError("API_TOKENS holds a placeholder token; set a real secret")
            if len(token) < MIN_TOKEN_LENGTH:
                raise ValueError(
                    f"API_TOKENS: entry {position} (role {role}) has a token of {len(token)} "
                    f"characters; every token needs at least {MIN_TOKEN_LENGTH} "
                    "(e.g. openssl rand -hex 32)"
                )
            if token in roles:
                # The same secret under two roles would silently take the last one.
                raise ValueError(
                    f"API_TOKENS: entry {position} repeats a token already listed (as "
                    f"{roles[token]}; here as {role}); "
                    "tokens must be unique"
                )
            roles[token] = role
        return roles


@lru_cache
def get_settings() -> Settings:
    """The settings, or exit with one line per problem.

    pydantic's own message would echo the input values, and with them the API tokens.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SystemExit(f"refusing to start, invalid settings: {problems}") from None
