"""Default models: trained from the bundled sample on first start, loaded at every start."""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.errors import AppError, DatasetNotFound, ModelNotFound
from backend.files import file_lock
from backend.ml.params import validate_params, validate_vectorizer
from backend.ml.training import FitJob, fit_quietly
from backend.services.datasets import DatasetService
from backend.services.inference import InferenceSpace
from backend.services.label_names import TOXIC_LABEL_NAMES
from backend.services.registry import ModelRegistry
from backend.settings import Settings

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
# The default models learn from Wikipedia talk-page comments (9.7% toxic, the natural mix of
# a moderation queue). The Davidson tweets (83% offensive, sampled through a hate lexicon)
# stay bundled as a second dataset, but taught models that almost any text is toxic.
WIKI_CSV = SAMPLE_DIR / "toxic_en_wiki.csv"
WIKI_DATASET_ID = "sample-toxic-en-wiki"
SAMPLE_CSV = SAMPLE_DIR / "toxic_en.csv"
SAMPLE_DATASET_ID = "sample-toxic-en"
BUNDLED = (
    (WIKI_DATASET_ID, WIKI_CSV, "toxic_en_wiki (bundled, Wikipedia talk pages)"),
    (SAMPLE_DATASET_ID, SAMPLE_CSV, "toxic_en (bundled, Davidson tweets)"),
)


def defaults_lock_path(settings: Settings) -> Path:
    """The lock held while default models are prepared (and leftover files are cleaned)."""
    return settings.data_dir / ".defaults.lock"


# Word 1-2-grams and char_wb 2-4-grams, each capped at 100k features: on toxic_en_wiki.csv this
# beats word n-grams alone (see README, "Default models") and trains in seconds.
DEFAULT_VECTORIZER = {
    "type": "union",
    "ngram_range": [1, 2],
    "min_df": 2,
    "max_features": 100_000,
    "sublinear_tf": True,
    "char_ngram_range": [2, 4],
    "char_min_df": 2,
    "char_max_features": 100_000,
}


@dataclass(frozen=True)
class DefaultSpec:
    model_id: str
    model_type: str
    params: dict[str, Any]


DEFAULT_SPECS = (
    DefaultSpec("default-logreg", "logreg", {"C": 4.0, "solver": "liblinear"}),
    DefaultSpec("default-mnb", "mnb", {"alpha": 0.1}),
    # Calibrated so that its scores are probabilities like the others' (a toxic score 0-1).
    DefaultSpec("default-svc", "svc", {"C": 0.5, "calibrate": True}),
)


class DefaultModels:
    def __init__(
        self,
        settings: Settings,
        datasets: DatasetService,
        registry: ModelRegistry,
        inference: InferenceSpace,
    ) -> None:
        self.settings = settings
        self.datasets = datasets
        self.registry = registry
        self.inference = inference

    def ensure(self) -> None:
        """Make sure every default model is trained, verified, marked loaded and cached."""
        with file_lock(defaults_lock_path(self.settings)):
            dataset = self._sample_dataset()
            missing = [spec for spec in DEFAULT_SPECS if not self._usable(spec)]
            if missing:
                self._train(missing, dataset)
            for spec in DEFAULT_SPECS:
                self.registry.set_loaded(spec.model_id, True)
        for spec in DEFAULT_SPECS:
            self.inference.get(self.registry.row(spec.model_id))
        log.info("default models ready: %s", [s.model_id for s in DEFAULT_SPECS])

    def _sample_dataset(self) -> Any:
        """Import the bundled datasets that are missing; the defaults' training data."""
        for dataset_id, path, name in BUNDLED:
            try:
                self.datasets.row(dataset_id)
            except DatasetNotFound:
                self.datasets.import_file(
                    path, dataset_id=dataset_id, name=name, label_names=TOXIC_LABEL_NAMES
                )
        return self.datasets.row(WIKI_DATASET_ID)

    def _usable(self, spec: DefaultSpec) -> bool:
        try:
            row = self.registry.row(spec.model_id)
        except ModelNotFound:
            return False
        if row.status != "trained" or row.drift_reference is None:
            return False  # made before drift monitoring: retrain it to get its profile
        if (row.dataset_id, row.params, row.vectorizer) != (
            WIKI_DATASET_ID,
            validate_params(spec.model_type, spec.params),
            validate_vectorizer(DEFAULT_VECTORIZER),
        ):
            log.info(
                "default model %s was made with other data or settings; retraining", spec.model_id
            )
            return False
        try:
            self.inference.get(row)
        except AppError as exc:
            log.warning("default model %s must be retrained: %s", spec.model_id, exc.detail)
            return False
        return True

    def _train(self, specs: list[DefaultSpec], dataset: Any) -> None:
        vectorizer = validate_vectorizer(DEFAULT_VECTORIZER)
        jobs = [
            FitJob(
                task_id=f"defaults-{spec.model_id}",
                model_id=spec.model_id,
                dataset_path=str(self.datasets.path(dataset)),
                label_kind=dataset.label_kind,
                model_type=spec.model_type,
                params=validate_params(spec.model_type, spec.params),
                vectorizer=vectorizer,
                test_size=0.2,
                random_state=42,
                artifact_path=str(self.settings.artifacts_dir / f"{spec.model_id}.skops"),
                max_rows=self.settings.default_models_rows,
            )
            for spec in specs
        ]
        log.info("training default models %s", [s.model_id for s in specs])
        # A separate short-lived process keeps the CPU-bound work off this server's GIL.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            outcomes = pool.submit(fit_quietly, jobs).result()
        for spec, job, outcome in zip(specs, jobs, outcomes, strict=True):
            self.registry.delete(spec.model_id)
            self.registry.create(
                model_id=spec.model_id,
                name=spec.model_id,
                model_type=spec.model_type,
                params=job.params,
                vectorizer=job.vectorizer,
                test_size=job.test_size,
                random_state=job.random_state,
                status="trained",
                loaded=True,
                is_default=True,
                metrics=outcome.metrics,
                classes=outcome.classes,
                dataset_id=dataset.id,
                label_names=dataset.label_names,
                artifact_sha256=outcome.artifact_sha256,
                sklearn_version=outcome.sklearn_version,
                python_version=outcome.python_version,
                threshold=outcome.threshold,
                holdout_curve=outcome.holdout,
                drift_reference=outcome.drift_reference,
            )
