"""Model operations behind /api/v1/models: fit, load/unload, predict, evaluate, remove."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError

from backend.db.models import ModelRow
from backend.errors import (
    BadRequest,
    DatasetNotFound,
    DefaultModelProtected,
    ModelNotLoaded,
    ModelNotTrained,
    PayloadTooLarge,
    TooManyLoaded,
    UntrustedModelFile,
)
from backend.files import FileClaim
from backend.ml.artifacts import (
    ArtifactError,
    dumps_portable,
    load_pipeline,
    loads_trusted,
    save_pipeline,
)
from backend.ml.metrics import compute_metrics, confusion, pr_points, roc_points
from backend.ml.params import VectorizerParams
from backend.ml.pipeline import CLASSIFIERS
from backend.ml.threshold import decide
from backend.ml.training import FitJob, positive_class
from backend.schemas.models import (
    EvaluateResponse,
    FitAccepted,
    FitRequest,
    ModelInfo,
)
from backend.services.datasets import DatasetService
from backend.services.ids import new_id
from backend.services.inference import InferenceSpace
from backend.services.prediction_log import PredictionLog
from backend.services.registry import ModelRegistry
from backend.services.serving import ServingTable
from backend.services.task_runner import TaskRunner, job_to_request
from backend.services.tasks import TaskStore
from backend.settings import Settings

log = logging.getLogger(__name__)


class ModelService:
    def __init__(
        self, settings: Settings, registry: ModelRegistry, tasks: TaskStore,
        datasets: DatasetService, inference: InferenceSpace, runner: TaskRunner,
        prediction_log: PredictionLog, serving: ServingTable,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.tasks = tasks
        self.datasets = datasets
        self.inference = inference
        self.runner = runner
        self.prediction_log = prediction_log
        self.serving = serving

    # --- training -------------------------------------------------------------------

    def fit(self, request: FitRequest) -> FitAccepted:
        dataset = self.datasets.row(request.dataset_id)
        return self.submit(
            request, [str(self.datasets.path(dataset))], dataset.label_kind,
            self.datasets.positive_label(dataset),
        )

    def submit(
        self, request: FitRequest, dataset_paths: list[str], label_kind: str,
        positive_label: Any, *, kind: str = "fit", **task_extra: Any,
    ) -> FitAccepted:
        """Record a model in training and queue the task that fits it on `dataset_paths`."""
        row = self._new_model_row(request)
        job = FitJob(
            task_id=new_id("task"), model_id=row.id,
            dataset_path=dataset_paths[0], label_kind=label_kind,
            model_type=request.model_type, params=request.params,
            vectorizer=request.vectorizer, test_size=request.test_size,
            random_state=request.random_state,
            artifact_path=str(self.settings.artifacts_dir / f"{row.id}.skops"),
            positive_label=positive_label, extra_dataset_paths=tuple(dataset_paths[1:]),
            search=request.search.model_dump() if request.search else None,
            joblib_backend="ray" if self.settings.fit_executor == "ray" else None,
            tune_threshold=request.tune_threshold,
        )
        if request.search is not None and kind == "fit":
            kind = "search"
        try:
            task = self.tasks.create(kind, row.id, job_to_request(job, **task_extra),
                                     task_id=job.task_id)
        except BaseException:
            self.registry.delete(row.id)
            raise
        self.runner.wake()
        return FitAccepted(task_id=task.id, model_id=row.id)

    def _new_model_row(self, request: FitRequest) -> ModelRow:
        for _attempt in range(5):  # two fits of one name at once race for the version
            try:
                return self.registry.add(ModelRow(
                    id=new_id("mdl"), name=request.name,
                    version=self.registry.next_version(request.name),
                    model_type=request.model_type, params=request.params,
                    vectorizer=request.vectorizer, test_size=request.test_size,
                    random_state=request.random_state, status="training", loaded=False,
                    is_default=False, metrics={}, classes=[], dataset_id=request.dataset_id,
                    label_names=self._label_names(request.dataset_id), artifact_path=None,
                ))
            except IntegrityError:
                continue
        raise BadRequest(f"could not allocate a version for {request.name!r}; try again")

    def _label_names(self, dataset_id: str) -> dict[str, str] | None:
        """The training dataset's label names, which the model keeps (None if it has none)."""
        try:
            return self.datasets.row(dataset_id).label_names
        except DatasetNotFound:
            return None

    # --- the loaded set -------------------------------------------------------------

    def load(self, model_ref: str) -> ModelInfo:
        row = self.registry.row(model_ref)
        if row.status != "trained":
            raise ModelNotTrained(
                f"model {row.id} is {row.status}, not trained; only trained models load"
            )
        limit = self.settings.max_loaded_models
        full = TooManyLoaded(f"MAX_LOADED_MODELS={limit} models are loaded; unload one first")
        if not row.loaded and self.registry.count_loaded() >= limit:
            raise full  # cheap early answer; the claim below is the one that counts
        was_cached = self.inference.cached(row) is not None
        self.inference.get(row)  # verifies the artifact before the model counts as loaded
        if not row.loaded and not self.registry.claim_loaded(row.id, limit):
            if not was_cached:
                self.inference.evict(row.id)
            raise full
        return self.registry.get(row.id)

    def unload(self, model_ref: str) -> ModelInfo:
        row = self.registry.row(model_ref)
        if row.is_default:
            raise DefaultModelProtected(f"model {row.id} is a default model and stays loaded")
        if row.loaded:
            self.registry.set_loaded(row.id, False)
        self.inference.evict(row.id)
        return self.registry.get(row.id)

    def sync_loaded(self) -> None:
        """Drop cached models that another process unloaded or removed."""
        self.inference.keep_only(self.registry.loaded_ids())

    # --- inference ------------------------------------------------------------------

    def _loaded_row(self, model_ref: str) -> ModelRow:
        """The loaded model `model_ref` names, or the precise 404/409 from the database."""
        row = self.registry.row(model_ref)
        if not row.loaded:
            raise ModelNotLoaded(row.id)
        return row

    async def serve(
        self, kind: str, model_ref: str, texts: list[str], role: str | None
    ) -> dict[str, Any]:
        """Predict (`kind` "predict") or score ("scores") through the model's micro-batcher.

        In the steady state this touches neither the database nor a thread of its own: the
        serving table answers which models are loaded, and the batcher runs the pipeline.
        """
        if len(texts) > self.settings.max_predict_batch:
            raise PayloadTooLarge(
                f"{len(texts)} texts is over MAX_PREDICT_BATCH={self.settings.max_predict_batch}; "
                "split the request"
            )
        started = time.perf_counter()
        if self.serving.is_stale():
            await asyncio.to_thread(self.serving.refresh)
        row = self.serving.lookup(model_ref) or await asyncio.to_thread(
            self._loaded_row, model_ref
        )
        model = self.inference.cached(row) or await asyncio.to_thread(self.inference.get, row)
        output = await model.batcher.submit(kind, texts)
        latency_ms = (time.perf_counter() - started) * 1000
        if kind == "predict":
            predictions, scores = output
            ids = self.prediction_log.record(
                model_id=model.model_id, endpoint="predict", texts=texts, outputs=predictions,
                latency_ms=latency_ms, role=role, scores=scores, features=model.live_features,
            )
            return {"model_id": model.model_id, "predictions": predictions,
                    "prediction_ids": ids}
        labels = [str(c) for c in model.classes]
        ids = self.prediction_log.record(
            model_id=model.model_id, endpoint="predict_scores", texts=texts,
            outputs=[dict(zip(labels, scores, strict=True)) for scores in output],
            latency_ms=latency_ms, role=role, scores=output, features=model.live_features,
        )
        return {"model_id": model.model_id, "classes": model.classes,
                "score_kind": model.score_kind, "scores": output, "prediction_ids": ids}

    def evaluate(self, model_ref: str, dataset_id: str) -> EvaluateResponse:
        row = self.registry.row(model_ref)
        if row.status != "trained":
            raise ModelNotTrained(f"model {row.id} is {row.status}; only trained models evaluate")
        dataset = self.datasets.row(dataset_id)
        pipeline = self._pipeline(row)
        frame = self.datasets.frame(dataset)
        classes = list(row.classes or np.asarray(pipeline.classes_).tolist())
        unknown = sorted({str(v) for v in frame["label"].unique()} - {str(c) for c in classes})
        if len(unknown) == len(frame["label"].unique()):
            raise BadRequest(
                f"dataset {dataset_id} has labels {unknown[:10]} and the model knows "
                f"{[str(c) for c in classes]}; evaluate on data labelled like the training data"
            )
        texts = frame["text"].tolist()
        truth = frame["label"].to_numpy()
        positive = positive_class(
            classes, self.datasets.positive_label(dataset) or row.metrics.get("positive_label")
        )
        scores, predictions, cut = decide(pipeline, texts, classes, positive, row.threshold)
        binary = len(classes) == 2
        return EvaluateResponse(
            model_id=row.id, dataset_id=dataset_id, classes=classes,
            metrics=compute_metrics(truth, predictions, scores, classes, positive, threshold=cut),
            roc=roc_points(truth, scores, classes, positive),  # type: ignore[arg-type]
            pr=pr_points(truth, scores, classes, positive) if binary else None,  # type: ignore[arg-type]
            confusion_matrix=confusion(truth, predictions, classes),
        )

    def _pipeline(self, row: ModelRow) -> Any:
        if row.loaded:
            return self.inference.get(row).pipeline
        try:
            return load_pipeline(self.inference.artifact_path(row), row.artifact_sha256)
        except ArtifactError as exc:
            raise ModelNotTrained(f"model {row.id} cannot be read: {exc}") from None

    # --- removal and aliases ----------------------------------------------------------

    def remove(self, model_ref: str) -> str:
        row = self.registry.row(model_ref)
        if row.is_default:
            raise DefaultModelProtected(f"model {row.id} is a default model and cannot be removed")
        if row.status == "training":
            for task in self.tasks.for_model(row.id):
                if task.status in ("queued", "running"):
                    self.tasks.request_cancel(task.id)
            self.runner.wake()
        self.registry.delete(row.id)
        self.inference.evict(row.id)
        artifact: Path = self.inference.artifact_path(row)
        artifact.unlink(missing_ok=True)
        log.info("model %s removed", row.id)
        return row.id

    def remove_all(self) -> list[str]:
        return [self.remove(m.id) for m in self.registry.list() if not m.is_default]

    def promote(self, model_ref: str, alias: str) -> ModelInfo:
        row = self.registry.row(model_ref)
        if row.status != "trained":
            raise ModelNotTrained(f"model {row.id} is {row.status}; only trained models promote")
        previous = self.registry.alias_target(row.name, alias)
        if previous not in (None, row.id) and not row.loaded and self.registry.row(previous).loaded:
            self.load(row.id)  # the alias was serving: keep it serving through the move
        self.registry.set_alias(row.name, alias, row.id)
        return self.registry.get(row.id)

    # --- model files ------------------------------------------------------------------

    def portable_file(self, model_ref: str) -> tuple[bytes, str]:
        """The whole pipeline as plain skops bytes, and a download name for them."""
        row = self.registry.row(model_ref)
        if row.status != "trained":
            raise ModelNotTrained(f"model {row.id} is {row.status} and has no model file")
        payload = dumps_portable(self._pipeline(row))
        safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in row.name)
        return payload, f"{safe_name}-v{row.version}.skops"

    def upload(self, payload: bytes, name: str) -> ModelInfo:
        """Register a skops pipeline file; untrusted types are refused before loading."""
        try:
            pipeline = loads_trusted(payload)
        except ArtifactError as exc:
            raise UntrustedModelFile(str(exc)) from None
        classes = getattr(pipeline, "classes_", None)
        if not hasattr(pipeline, "predict") or classes is None:
            raise BadRequest(
                f"the file holds a {type(pipeline).__name__}, not a fitted classifier; "
                "upload a fitted scikit-learn Pipeline that takes raw texts"
            )
        try:
            pipeline.predict(["a short test text"])
        except Exception as exc:
            raise BadRequest(f"the model cannot classify raw texts: {type(exc).__name__}: {exc}"
                             ) from None
        steps = dict(getattr(pipeline, "steps", []))
        classifier = steps.get("classifier", pipeline)
        vectorizer = steps.get("vectorizer")
        model_type = next(
            (k for k, cls in CLASSIFIERS.items() if type(classifier) is cls),
            type(classifier).__name__,
        )
        vectorizer_params: dict[str, Any] = {}
        if vectorizer is not None:
            known = set(VectorizerParams.model_fields)
            vectorizer_params = {
                k: v for k, v in vectorizer.get_params().items() if k in known and k != "type"
            }
            vectorizer_params["type"] = {
                "TfidfVectorizer": "tfidf", "FeatureUnion": "union"
            }.get(type(vectorizer).__name__, "count")
        model_id = new_id("mdl")
        classifier_params = {
            k: v for k, v in classifier.get_params().items()
            if isinstance(v, (int, float, str, bool, type(None)))
        } if hasattr(classifier, "get_params") else {}
        artifact = self.settings.artifacts_dir / f"{model_id}.skops"
        with FileClaim() as claim:  # start-up cleanup elsewhere leaves it until the row exists
            sha = save_pipeline(pipeline, artifact, claim)
            try:
                self.registry.add(ModelRow(
                    id=model_id, name=name, version=self.registry.next_version(name),
                    model_type=model_type, params=classifier_params,
                    vectorizer=_jsonable(vectorizer_params), status="trained", loaded=False,
                    is_default=False, metrics={}, classes=np.asarray(classes).tolist(),
                    dataset_id=None, artifact_path=artifact.name, artifact_sha256=sha,
                ))
            except BaseException:
                artifact.unlink(missing_ok=True)
                raise
        log.info("model %s uploaded as %s", model_id, name)
        return self.registry.get(model_id)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in values.items()
        if isinstance(v, (int, float, str, bool, tuple, list, type(None)))
    }
