"""Builds the services of one server process from its settings and wires them together."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from backend.db.migrate import upgrade_to_head
from backend.db.session import Database
from backend.files import file_lock
from backend.services.datasets import DatasetService
from backend.services.defaults import DefaultModels, defaults_lock_path
from backend.services.drift import DriftService
from backend.services.explanations import Explanations
from backend.services.feedback import FeedbackService
from backend.services.fit_executor import FitExecutor, LocalFitExecutor
from backend.services.inference import InferenceSpace
from backend.services.leftovers import remove_leftover_files
from backend.services.log_budget import PredictionLogBudget
from backend.services.models import ModelService
from backend.services.prediction_log import PredictionLog
from backend.services.registry import ModelRegistry
from backend.services.retrain_files import RetrainFiles
from backend.services.retraining import Retraining
from backend.services.serving import ServingTable
from backend.services.serving_signal import ServingSignal, make_serving_signal
from backend.services.task_runner import TaskRunner
from backend.services.tasks import TaskStore, process_identity
from backend.services.thresholds import Thresholds
from backend.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    datasets: DatasetService
    registry: ModelRegistry
    tasks: TaskStore
    inference: InferenceSpace
    executor: FitExecutor
    runner: TaskRunner
    models: ModelService
    defaults: DefaultModels
    prediction_log: PredictionLog
    retraining: Retraining
    owner: str
    serving_signal: ServingSignal
    explanations: Explanations
    drift: DriftService
    feedback: FeedbackService
    thresholds: Thresholds
    defaults_ready: bool = False
    defaults_error: str | None = None
    startup_notes: list[str] = field(default_factory=list)
    log_budget: PredictionLogBudget | None = None


def make_executor(settings: Settings) -> FitExecutor:
    if settings.fit_executor == "ray":
        from backend.services.ray_executor import RayFitExecutor  # optional dependency

        return RayFitExecutor(settings)
    return LocalFitExecutor(settings.fit_workers)


def build_services(settings: Settings) -> Services:
    for directory in (settings.data_dir, settings.artifacts_dir, settings.datasets_dir,
                      settings.uploads_dir):
        directory.mkdir(parents=True, exist_ok=True)
    db = Database(settings.db_url)
    upgrade_to_head(db, settings.data_dir)
    owner = process_identity()
    datasets = DatasetService(db, settings)
    stamp = make_serving_signal(db, settings.data_dir)
    registry = ModelRegistry(db, on_serving_change=stamp.bump)
    tasks = TaskStore(db, settings.max_queued_fits)
    inference = InferenceSpace(
        settings.artifacts_dir, (settings.batch_max_size, settings.batch_max_wait_ms / 1000)
    )
    executor = make_executor(settings)
    runner = TaskRunner(settings, tasks, registry, executor, owner)
    prediction_log = PredictionLog(
        db, keep_texts=settings.log_prediction_texts,
        retention_days=settings.prediction_log_retention_days,
    )
    models = ModelService(settings, registry, tasks, datasets, inference, runner, prediction_log,
                          ServingTable(db, stamp, settings.serving_recheck_s))
    runner.on_tick.append(models.sync_loaded)
    defaults = DefaultModels(settings, datasets, registry, inference)
    explanations = Explanations(settings, registry, inference)
    retrain_files = RetrainFiles(db, settings.datasets_dir,
                                 settings.data_dir / ".retrain-files.lock")
    retraining = Retraining(models, registry, datasets, retrain_files)
    log_budget = PredictionLogBudget(
        db, max_rows=settings.prediction_log_max_rows,
        max_bytes=int(settings.prediction_log_max_mb * 1024 * 1024),
    )
    runner.on_tick.append(log_budget.enforce)
    return Services(settings, db, datasets, registry, tasks, inference, executor, runner,
                    models, defaults, prediction_log, retraining,
                    owner, stamp, explanations=explanations,
                    thresholds=Thresholds(registry, explanations),
                    drift=DriftService(db, registry, settings),
                    feedback=FeedbackService(db, registry, prediction_log, datasets),
                    log_budget=log_budget)


def recover_after_restart(services: Services) -> None:
    """Fail tasks whose process is gone and drop files that no record vouches for."""
    failed = services.tasks.fail_orphans(services.settings.task_stale_after_s, services.owner)
    if failed:
        log.warning("tasks interrupted by a restart are now failed: %s", failed)
    services.retraining.files.sweep()  # split files of retrains the restart ended
    # The default-models job writes model files and their rows without a claim: wait for it.
    with file_lock(defaults_lock_path(services.settings)):
        remove_leftover_files(services.settings, services.db)
