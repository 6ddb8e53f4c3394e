"""App factory and lifespan: `uvicorn backend.main:app`."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from backend.affinity import follow_main_thread_affinity
from backend.api.deps import TokenTable
from backend.api.fast_predict import FastPredict
from backend.api.gate import RequestGate, RouteGate
from backend.api.limits import BodyLimits, BodySizeLimit
from backend.api.main import ROUTERS, include_routers
from backend.api.metrics import AppMetrics, MetricsMiddleware
from backend.api.metrics import router as metrics_router
from backend.errors import install_error_handlers
from backend.services.container import Services, build_services, recover_after_restart
from backend.services.drift import metric_samples
from backend.settings import Settings, get_settings
from toxiclf_logging import configure_logging

log = logging.getLogger("backend")


async def _prepare_defaults(services: Services) -> None:
    if not services.settings.default_models:
        services.defaults_ready = True
        return
    try:
        await asyncio.to_thread(services.defaults.ensure)
        services.defaults_ready = True
    except Exception as exc:
        log.exception("default models could not be prepared")
        services.defaults_error = f"{type(exc).__name__}: {exc}"


def _drain_on_shutdown_signal(services: Services) -> None:
    """Stop claiming queued fits as soon as SIGTERM/SIGINT arrives.

    uvicorn runs the lifespan's shutdown only after open connections drain; a fit claimed in
    that window would be cut off and then count as failed. uvicorn's own handlers are already
    installed here, so ours runs first and then hands over to them.
    """
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if not callable(previous):
            continue

        def handler(number: int, frame: Any, previous: Any = previous) -> None:
            services.runner.drain()
            previous(number, frame)

        try:
            signal.signal(signum, handler)
        except ValueError:  # not the main thread (e.g. an app embedded in tests)
            return


# How long a thread (the prediction log's writer, a long batch) may hold the GIL while the
# event loop waits for it: Python's default 5 ms was the 1-text p99 (bench: 11-18 ms → 8-9 ms
# at 1 ms, with more requests per second too).
GIL_SWITCH_INTERVAL_S = 0.001


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    services = await asyncio.to_thread(build_services, settings)
    await asyncio.to_thread(recover_after_restart, services)
    app.state.services = services
    app.state.metrics.watch_state(
        lambda: {
            "tasks": services.tasks.count_by_status(),
            "loaded": services.registry.count_loaded(),
            "cached": len(services.inference.ids()),
        }
    )
    app.state.metrics.registry.register(services.log_budget.collector())
    app.state.metrics.watch_drift(
        lambda: metric_samples(services.drift.latest(sorted(services.registry.loaded_ids())))
    )
    if app.state.tokens.open:
        log.warning("API_TOKENS is empty: the API is open to anyone who can reach it")
    if "*" in settings.forwarded_allow_ips.split(","):
        log.warning(
            "FORWARDED_ALLOW_IPS=*: any client can set X-Forwarded-For; list only "
            "the proxy's address or network"
        )
    _drain_on_shutdown_signal(services)
    runner_task = asyncio.create_task(services.runner.run(), name="task-runner")
    defaults_task = asyncio.create_task(_prepare_defaults(services), name="default-models")
    affinity_task = asyncio.create_task(follow_main_thread_affinity(), name="affinity")
    try:
        yield
    finally:
        services.runner.stop()
        defaults_task.cancel()
        affinity_task.cancel()
        await asyncio.gather(runner_task, defaults_task, affinity_task, return_exceptions=True)
        await asyncio.to_thread(services.executor.shutdown)
        await asyncio.to_thread(services.dataset_evaluation.pool.shutdown)
        await asyncio.to_thread(services.prediction_log.flush)
        await asyncio.to_thread(services.serving_signal.close)
        services.db.dispose()


class ToxiclfAPI(FastAPI):
    """FastAPI with the hot prediction routes answered in front of its middleware stack
    (api/fast_predict.py); every other request goes through the stack as usual."""

    front: FastPredict | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None:
            await super().__call__(scope, receive, send)
        else:
            await self.front(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.getLogger("uvicorn.access").disabled = not settings.access_log
    configure_logging(settings.log_dir / "backend.log", settings.log_level)
    app = ToxiclfAPI(
        title="toxiclf",
        version="1.0",
        lifespan=lifespan,
        redirect_slashes=False,
        description="Train, serve and monitor text classifiers. Contract: API.md.",
        # DOCS_ENABLED=false: no /docs, /redoc or /openapi.json (404), e.g. in production.
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url="/redoc" if settings.docs_enabled else None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.settings = settings
    app.state.tokens = TokenTable(settings)
    install_error_handlers(app)
    include_routers(app)
    app.include_router(metrics_router)
    app.state.metrics = AppMetrics()
    gate = RouteGate(ROUTERS, app.state.tokens)
    limits = BodyLimits(settings.max_upload_bytes, settings.max_json_body_bytes)
    # Token and URL checks, before a route reads the body.
    app.add_middleware(RequestGate, gate=gate)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodySizeLimit, limits=limits)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics, gate=gate)
    app.front = FastPredict(
        app, partial(FastAPI.__call__, app), gate=gate, limits=limits, cors=bool(origins)
    )
    return app


app = create_app()
