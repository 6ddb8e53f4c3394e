"""Prometheus metrics: requests by route and status, latency, tasks, loaded models, queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.gate import RouteGate
from backend.schemas.tasks import TASK_STATUSES

router = APIRouter(tags=["ops"])

STATUSES = TASK_STATUSES


class AppMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.fast_path_answers = Counter(
            "fast_path_answers",
            "Requests answered by the fast predict path (api/fast_predict.py)",
            registry=self.registry,
        )

    def observe(self, template: str, method: str, status: int, seconds: float) -> None:
        # `labels()` builds and locks a key per call; the children are cached per label set
        # because this runs on every request, the hot predict path included.
        key = (template, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(template, method, str(status)),
                self.latency.labels(template, method),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def watch_state(self, state: Callable[[], dict[str, Any]]) -> None:
        self.registry.register(_StateCollector(state))

    def watch_drift(self, samples: Callable[[], dict[str, Any]]) -> None:
        self.registry.register(_DriftCollector(samples))


class _DriftCollector(Collector):
    """The last drift report per loaded model (services/drift.py `metric_samples`)."""

    def __init__(self, samples: Callable[[], dict[str, Any]]) -> None:
        self.samples = samples

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.samples()
        status = GaugeMetricFamily(
            "model_drift_status",
            "1 for the model's current drift status (ok, drift, too_few) "
            "over the last DRIFT_WINDOW_HOURS",
            labels=["model_id", "status"],
        )
        for model_id, name, value in snapshot["status"]:
            status.add_metric([model_id, name], value)
        yield status
        psi = GaugeMetricFamily(
            "model_drift_psi",
            "PSI of a feature against the validation split",
            labels=["model_id", "feature"],
        )
        for model_id, feature, value in snapshot["psi"]:
            psi.add_metric([model_id, feature], value)
        yield psi
        count = GaugeMetricFamily(
            "model_drift_predictions", "Logged predictions in the drift window", labels=["model_id"]
        )
        for model_id, value in snapshot["n"]:
            count.add_metric([model_id], value)
        yield count


class _StateCollector(Collector):
    """Reads task and model state at scrape time, from the shared database."""

    def __init__(self, state: Callable[[], dict[str, Any]]) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.state()
        tasks = GaugeMetricFamily("tasks", "Tasks by status", labels=["status"])
        for status in STATUSES:
            tasks.add_metric([status], snapshot["tasks"].get(status, 0))
        yield tasks
        yield GaugeMetricFamily(
            "fit_queue_length",
            "Fits waiting for a worker",
            value=snapshot["tasks"].get("queued", 0),
        )
        yield GaugeMetricFamily("models_loaded", "Models marked loaded", value=snapshot["loaded"])
        yield GaugeMetricFamily(
            "models_cached_in_process",
            "Models held in this process's inference space",
            value=snapshot["cached"],
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: AppMetrics, gate: RouteGate) -> None:
        self.app = app
        self.metrics = metrics
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            # A request refused before routing (e.g. a 413 on its declared length) still
            # counts under its route's template.
            route = scope.get("route") or self.gate.match(scope)[0]
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(template, scope["method"], status, time.perf_counter() - started)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    app_metrics: AppMetrics = request.app.state.metrics
    payload = await run_in_threadpool(generate_latest, app_metrics.registry)
    return Response(payload, media_type=CONTENT_TYPE_LATEST)
