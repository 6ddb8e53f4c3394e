"""The loaded set: which trained models serve predictions, kept in the database for every
process, and this process's cache of them in step with it.
"""

from __future__ import annotations

from backend.errors import DefaultModelProtected, ModelNotTrained, TooManyLoaded
from backend.schemas.models import ModelInfo
from backend.services.inference import InferenceSpace
from backend.services.registry import ModelRegistry
from backend.settings import Settings


class LoadedSet:
    def __init__(
        self, settings: Settings, registry: ModelRegistry, inference: InferenceSpace
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.inference = inference

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

    def sync(self) -> None:
        """Drop cached models that another process unloaded or removed."""
        self.inference.keep_only(self.registry.loaded_ids())
