"""The only code in the frontend that speaks HTTP: one method per backend route (API.md, v1).

Exceptions::

    ClientError
    ├── BackendUnreachable   no HTTP answer at all (refused, DNS, timeout); carries the URL tried
    └── BackendError         an HTTP answer with status >= 400; carries status and `detail`
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

logger = logging.getLogger("frontend.client")

JSONDict = dict[str, Any]


class ClientError(Exception):
    """Base of everything this module raises."""


class BackendUnreachable(ClientError):
    """The backend did not answer: `url` is the address that was tried."""

    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"Backend unreachable at {url}" + (f" ({reason})" if reason else ""))


class BackendError(ClientError):
    """The backend answered with an error; `detail` is its readable explanation."""

    def __init__(self, status: int, detail: str, route: str = "") -> None:
        self.status = status
        self.detail = detail
        self.route = route
        super().__init__(f"{status}: {detail}")


def error_detail(response: httpx.Response) -> str:
    """Turn an error body into one readable string (FastAPI 422 lists become `field: msg` lines)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] if text else response.reason_phrase or f"HTTP {response.status_code}"
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        lines = []
        for item in detail:
            if isinstance(item, dict):
                # "body" is FastAPI's prefix for the JSON body; analysts only need the field path.
                loc = [str(part) for part in item.get("loc", []) if part != "body"]
                message = item.get("msg", str(item))
                lines.append(f"{'.'.join(loc)}: {message}" if loc else str(message))
            else:
                lines.append(str(item))
        return "\n".join(lines)
    return str(detail)


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class BackendClient:
    """Typed access to the backend API; every failure becomes a `ClientError`."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        pool: httpx.Client | None = None,
    ) -> None:
        """`pool`: a connection pool shared by many clients; it must carry no credentials,
        because the token goes on each request (one browser session's token, see auth.py)."""
        self.base_url = base_url.rstrip("/")
        self._auth_headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._owns_pool = pool is None
        self._http = pool or httpx.Client(
            base_url=self.base_url, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        """Release the connection pool (unless it is shared)."""
        if self._owns_pool:
            self._http.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        started = time.perf_counter()
        try:
            headers = {**kwargs.pop("headers", {}), **self._auth_headers}
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            logger.warning("%s %s timed out: %r", method, path, exc)
            raise BackendUnreachable(self.base_url + path, "no answer before the timeout") from exc
        except httpx.TransportError as exc:
            logger.warning("%s %s failed: %r", method, path, exc)
            raise BackendUnreachable(self.base_url + path, _reason(exc)) from exc
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("%s %s -> %s in %.0f ms", method, path, response.status_code, elapsed_ms)
        if response.status_code >= 400:
            raise BackendError(response.status_code, error_detail(response), f"{method} {path}")
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise BackendError(
                response.status_code, f"expected JSON from {path}, got {response.text[:200]!r}"
            ) from exc

    # -- ops ----------------------------------------------------------------------------------

    def health(self) -> JSONDict:
        """GET /health."""
        return self._json("GET", "/health")

    def whoami(self) -> JSONDict:
        """GET /api/v1/whoami → {role, open}; BackendError 401 for a missing or unknown token."""
        return self._json("GET", "/api/v1/whoami")

    def limits(self) -> JSONDict:
        """GET /api/v1/limits → the request limits in force (texts and characters per call)."""
        return self._json("GET", "/api/v1/limits")

    # -- datasets -----------------------------------------------------------------------------

    def list_datasets(self) -> list[JSONDict]:
        """GET /api/v1/datasets."""
        return self._json("GET", "/api/v1/datasets")

    def upload_dataset(
        self,
        content: bytes,
        filename: str,
        *,
        name: str | None = None,
        text_column: str | None = None,
        label_column: str | None = None,
        positive_label: str | None = None,
    ) -> JSONDict:
        """POST /api/v1/datasets (multipart); unset fields let the backend guess."""
        fields = {
            "name": name,
            "text_column": text_column,
            "label_column": label_column,
            "positive_label": positive_label,
        }
        form = {key: value for key, value in fields.items() if value not in (None, "")}
        files = {"file": (filename, content, "text/csv")}
        return self._json("POST", "/api/v1/datasets", data=form, files=files)

    def preview_dataset(
        self,
        content: bytes,
        filename: str,
        *,
        text_column: str | None = None,
        label_column: str | None = None,
        head: int = 20,
    ) -> JSONDict:
        """POST /api/v1/datasets/preview: what upload would store from `content`, stored not.

        The server reads the file with its upload code: encoding, delimiter, columns, the
        first `head` rows, rows kept and dropped (and why), classes, or `error` (why upload
        would refuse it)."""
        fields = {"text_column": text_column, "label_column": label_column, "head": str(head)}
        form = {key: value for key, value in fields.items() if value not in (None, "")}
        files = {"file": (filename, content, "text/csv")}
        return self._json("POST", "/api/v1/datasets/preview", data=form, files=files)

    def download_dataset(self, dataset_id: str) -> bytes:
        """GET /api/v1/datasets/{id}/download → the stored rows as `text,label` CSV bytes."""
        return self._send("GET", f"/api/v1/datasets/{dataset_id}/download").content

    def delete_dataset(self, dataset_id: str) -> Any:
        """DELETE /api/v1/datasets/{id}."""
        return self._json("DELETE", f"/api/v1/datasets/{dataset_id}")

    # -- models -------------------------------------------------------------------------------

    def list_models(self) -> list[JSONDict]:
        """GET /api/v1/models/."""
        return self._json("GET", "/api/v1/models/")

    def model_types(self) -> JSONDict:
        """GET /api/v1/model_types → each model type's parameter schema, the vectorizer's."""
        return self._json("GET", "/api/v1/model_types")

    def fit(self, request: JSONDict) -> JSONDict:
        """POST /api/v1/models/fit → {task_id, model_id}."""
        return self._json("POST", "/api/v1/models/fit", json=request)

    def load_model(self, model_id: str) -> JSONDict:
        """POST /api/v1/models/load → ModelInfo."""
        return self._json("POST", "/api/v1/models/load", json={"model_id": model_id})

    def unload_model(self, model_id: str) -> JSONDict:
        """POST /api/v1/models/unload → ModelInfo."""
        return self._json("POST", "/api/v1/models/unload", json={"model_id": model_id})

    def predict(self, model_id: str, texts: list[str]) -> JSONDict:
        """POST /api/v1/models/predict → {model_id, predictions}."""
        return self._json(
            "POST", "/api/v1/models/predict", json={"model_id": model_id, "texts": texts}
        )

    def predict_scores(self, model_id: str, texts: list[str]) -> JSONDict:
        """POST /api/v1/models/predict_scores → {model_id, classes, score_kind, scores}."""
        return self._json(
            "POST", "/api/v1/models/predict_scores", json={"model_id": model_id, "texts": texts}
        )

    def evaluate(self, model_id: str, dataset_id: str | None, split: str = "dataset") -> JSONDict:
        """POST /api/v1/models/evaluate → {metrics, roc, pr, confusion_matrix}; split "holdout"
        scores the model on its own held-out split instead of `dataset_id`."""
        body: JSONDict = {"model_id": model_id, "split": split}
        if dataset_id is not None:
            body["dataset_id"] = dataset_id
        return self._json("POST", "/api/v1/models/evaluate", json=body)

    def explain(self, model_id: str, texts: list[str], top_k: int = 10) -> JSONDict:
        """POST /api/v1/models/explain → {model_id, explanations: [{label, score, tokens}]}."""
        return self._json(
            "POST",
            "/api/v1/models/explain",
            json={"model_id": model_id, "texts": texts, "top_k": top_k},
        )

    def threshold_info(self, model_id: str) -> JSONDict:
        """GET /api/v1/models/{id}/threshold → {threshold, score_kind, positive_label, curve}."""
        return self._json("GET", f"/api/v1/models/{model_id}/threshold")

    def set_threshold(self, model_id: str, body: JSONDict) -> JSONDict:
        """POST /api/v1/models/{id}/threshold with {threshold} or a target → ModelInfo."""
        return self._json("POST", f"/api/v1/models/{model_id}/threshold", json=body)

    def remove_model(self, model_id: str) -> Any:
        """POST /api/v1/models/remove."""
        return self._json("POST", "/api/v1/models/remove", json={"model_id": model_id})

    def remove_all_models(self) -> JSONDict:
        """POST /api/v1/models/remove_all → {removed: [ids]}; default models stay."""
        return self._json("POST", "/api/v1/models/remove_all")

    def promote(self, model_id: str, alias: str) -> JSONDict:
        """POST /api/v1/models/{id}/promote → ModelInfo."""
        return self._json("POST", f"/api/v1/models/{model_id}/promote", json={"alias": alias})

    def retrain(self, request: JSONDict) -> JSONDict:
        """POST /api/v1/models/retrain → {task_id, model_id}."""
        return self._json("POST", "/api/v1/models/retrain", json=request)

    def download_model(self, model_id: str) -> bytes:
        """GET /api/v1/models/{id}/download → the skops file's bytes (admin)."""
        return self._send("GET", f"/api/v1/models/{model_id}/download").content

    def upload_model(self, content: bytes, filename: str, name: str) -> JSONDict:
        """POST /api/v1/models/upload (multipart, admin) → ModelInfo."""
        files = {"file": (filename, content, "application/octet-stream")}
        return self._json("POST", "/api/v1/models/upload", data={"name": name}, files=files)

    # -- tasks --------------------------------------------------------------------------------

    def list_tasks(self) -> list[JSONDict]:
        """GET /api/v1/tasks/ (newest first)."""
        return self._json("GET", "/api/v1/tasks/")

    def get_task(self, task_id: str) -> JSONDict:
        """GET /api/v1/tasks/{id}."""
        return self._json("GET", f"/api/v1/tasks/{task_id}")

    def cancel_task(self, task_id: str) -> JSONDict:
        """POST /api/v1/tasks/{id}/cancel → TaskInfo."""
        return self._json("POST", f"/api/v1/tasks/{task_id}/cancel")

    # -- prediction log -----------------------------------------------------------------------

    def list_predictions(
        self, model_id: str | None = None, since: str | None = None, limit: int | None = None
    ) -> list[JSONDict]:
        """GET /api/v1/predictions (newest first)."""
        query = {"model_id": model_id, "since": since, "limit": limit}
        params = {key: value for key, value in query.items() if value not in (None, "")}
        return self._json("GET", "/api/v1/predictions", params=params)

    # -- monitoring and feedback ------------------------------------------------------------

    def drift(self, model_id: str, since: str | None = None, until: str | None = None) -> JSONDict:
        """GET /api/v1/models/{id}/drift → {n, status, features: {name: {psi, ...}}, hourly}."""
        params = {k: v for k, v in {"since": since, "until": until}.items() if v}
        return self._json("GET", f"/api/v1/models/{model_id}/drift", params=params)

    def send_feedback(self, body: JSONDict) -> JSONDict:
        """POST /api/v1/feedback {prediction_id | model_id + text, label} → FeedbackInfo."""
        return self._json("POST", "/api/v1/feedback/", json=body)

    def list_feedback(self, model_id: str | None = None, limit: int = 100) -> list[JSONDict]:
        """GET /api/v1/feedback (newest first)."""
        params: JSONDict = {"limit": limit}
        if model_id:
            params["model_id"] = model_id
        return self._json("GET", "/api/v1/feedback/", params=params)

    def feedback_summary(self, model_id: str) -> JSONDict:
        """GET /api/v1/feedback/summary → {n, disagreed, disagreement_share, by_label}."""
        return self._json("GET", "/api/v1/feedback/summary", params={"model_id": model_id})

    def feedback_dataset(self, model_id: str) -> JSONDict:
        """POST /api/v1/feedback/dataset (editor) → DatasetInfo of the model's corrections."""
        return self._json("POST", "/api/v1/feedback/dataset", json={"model_id": model_id})
