"""Model files in and out: download a pipeline as plain skops, upload a skops pipeline."""

from __future__ import annotations

import logging

from backend.errors import BadRequest, ModelNotTrained, UntrustedModelFile
from backend.files import FileClaim
from backend.ml.artifacts import ArtifactError, dumps_portable, loads_trusted, save_pipeline
from backend.ml.imported import NotATextClassifier, check_text_classifier, summarize
from backend.ml.model_size import ModelTooLarge
from backend.schemas.models import ModelInfo
from backend.services.ids import new_id
from backend.services.inference import InferenceSpace
from backend.services.registry import ModelRegistry
from backend.settings import Settings

log = logging.getLogger(__name__)


class ModelFiles:
    def __init__(
        self, settings: Settings, registry: ModelRegistry, inference: InferenceSpace
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.inference = inference

    def portable_file(self, model_ref: str) -> tuple[bytes, str]:
        """The whole pipeline as plain skops bytes, and a download name for them."""
        row = self.registry.row(model_ref)
        if row.status != "trained":
            raise ModelNotTrained(f"model {row.id} is {row.status} and has no model file")
        payload = dumps_portable(self.inference.pipeline_for(row))
        safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in row.name)
        return payload, f"{safe_name}-v{row.version}.skops"

    def upload(self, payload: bytes, name: str) -> ModelInfo:
        """Register a skops pipeline file; untrusted types are refused before loading."""
        try:  # a file whose members would inflate past MAX_MODEL_MB is refused from its
            # zip directory, before anything is inflated
            pipeline = loads_trusted(payload, self.settings.max_model_bytes)
        except ModelTooLarge as exc:
            raise BadRequest(str(exc)) from None
        except ArtifactError as exc:
            raise UntrustedModelFile(str(exc)) from None
        try:
            check_text_classifier(pipeline)
        except NotATextClassifier as exc:
            raise BadRequest(str(exc)) from None
        summary = summarize(pipeline)
        if len(summary.classes) > self.settings.max_classes:
            raise BadRequest(
                f"the model has {len(summary.classes):,} classes, over "
                f"MAX_CLASSES={self.settings.max_classes}"
            )
        model_id = new_id("mdl")
        artifact = self.settings.artifacts_dir / f"{model_id}.skops"
        with FileClaim() as claim:  # start-up cleanup elsewhere leaves it until the row exists
            sha = save_pipeline(pipeline, artifact, claim)
            try:
                self.registry.create(
                    model_id=model_id,
                    name=name,
                    model_type=summary.model_type,
                    params=summary.params,
                    vectorizer=summary.vectorizer,
                    status="trained",
                    classes=summary.classes,
                    artifact_path=artifact.name,
                    artifact_sha256=sha,
                )
            except BaseException:
                artifact.unlink(missing_ok=True)
                raise
        log.info("model %s uploaded as %s", model_id, name)
        return self.registry.get(model_id)
