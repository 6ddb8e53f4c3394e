"""Builds the services of one server process from its settings and wires them together."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from backend.db.migrate import upgrade_to_head
from backend.db.session import Database
from backend.files import file_lock
from backend.services.aliases import Aliases
from backend.services.dataset_evaluation import DatasetEvaluation
from backend.services.datasets import DatasetService
from backend.services.defaults import DefaultModels, defaults_lock_path
from backend.services.drift import DriftService
from backend.services.explanations import Explanations
from backend.services.feedback import FeedbackService
from backend.services.fit_executor import FitExecutor, LocalFitExecutor
from backend.services.holdout_split import HoldoutSplits
from backend.services.inference import InferenceSpace
from backend.services.leftovers import remove_leftover_files
from backend.services.loaded_set import LoadedSet
from backend.services.log_budget import PredictionLogBudget
from backend.services.model_files import ModelFiles
from backend.services.prediction_log import PredictionLog
from backend.services.predictions import Predictions
from backend.services.registry import ModelRegistry
from backend.services.removal import ModelRemoval
from backend.services.retrain_files import RetrainFiles
from backend.services.retraining import Retraining
from backend.services.serving import ServingTable
from backend.services.serving_signal import ServingSignal, make_serving_signal
from backend.services.task_runner import TaskRunner, Wakeup
from backend.services.tasks import TaskStore, process_identity
from backend.services.thresholds import Thresholds
from backend.services.training import ModelTraining
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
    training: ModelTraining
    loaded_set: LoadedSet
    predictions: Predictions
    dataset_evaluation: DatasetEvaluation
    aliases: Aliases
    removal: ModelRemoval
    model_files: ModelFiles
    defaults: DefaultModels
    prediction_log: PredictionLog
    retraining: Retraining
    owner: str
    serving_signal: ServingSignal
    explanations: Explanations
    drift: DriftService
    feedback: FeedbackService
    thresholds: Thresholds
    log_budget: PredictionLogBudget
    holdout_splits: HoldoutSplits
    defaults_ready: bool = False
    defaults_error: str | None = None


def make_executor(settings: Settings) -> FitExecutor:
    if settings.fit_executor == "ray":
        from backend.services.ray_executor import RayFitExecutor  # optional dependency

        return RayFitExecutor(settings)
    return LocalFitExecutor(settings.fit_workers)


def build_services(settings: Settings) -> Services:
    for directory in (
        settings.data_dir,
        settings.artifacts_dir,
        settings.datasets_dir,
        settings.uploads_dir,
    ):
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
    prediction_log = PredictionLog(
        db,
        keep_texts=settings.log_prediction_texts,
        retention_days=settings.prediction_log_retention_days,
    )
    log_budget = PredictionLogBudget(
        db,
        max_rows=settings.prediction_log_max_rows,
        max_bytes=int(settings.prediction_log_max_mb * 1024 * 1024),
    )
    explanations = Explanations(settings, registry, inference)
    holdout_splits = HoldoutSplits(settings, registry, tasks, datasets)
    # Services that queue tasks ring the runner awake; the runner is built last because
    # its hooks (the loaded set's sync, the retrain gate) are services themselves.
    wakeup = Wakeup()
    training = ModelTraining(settings, registry, tasks, datasets, wakeup.ring)
    loaded_set = LoadedSet(settings, registry, inference)
    retrain_files = RetrainFiles(
        db, settings.datasets_dir, settings.data_dir / ".retrain-files.lock"
    )
    retraining = Retraining(training, loaded_set, registry, datasets, inference, retrain_files)
    runner = TaskRunner(
        settings,
        tasks,
        registry,
        executor,
        owner,
        wakeup,
        finishers={"retrain": retraining.decide},
        # Every few seconds: drop models another process unloaded; remove split files of
        # retrains that ended any other way than through the gate; trim the prediction log.
        on_tick=[loaded_set.sync, retrain_files.sweep, log_budget.enforce],
    )
    return Services(
        settings=settings,
        db=db,
        datasets=datasets,
        registry=registry,
        tasks=tasks,
        inference=inference,
        executor=executor,
        runner=runner,
        training=training,
        loaded_set=loaded_set,
        predictions=Predictions(
            settings,
            registry,
            inference,
            ServingTable(db, stamp, settings.serving_recheck_s),
            prediction_log,
        ),
        dataset_evaluation=DatasetEvaluation(
            settings, registry, datasets, inference, holdout_splits
        ),
        aliases=Aliases(registry, loaded_set),
        removal=ModelRemoval(registry, tasks, inference, wakeup.ring),
        model_files=ModelFiles(settings, registry, inference),
        defaults=DefaultModels(settings, datasets, registry, inference),
        prediction_log=prediction_log,
        retraining=retraining,
        owner=owner,
        serving_signal=stamp,
        explanations=explanations,
        thresholds=Thresholds(registry, explanations),
        log_budget=log_budget,
        holdout_splits=holdout_splits,
        drift=DriftService(db, registry, settings),
        feedback=FeedbackService(db, registry, prediction_log, datasets),
    )


def recover_after_restart(services: Services) -> None:
    """Fail tasks whose process is gone and drop files that no record vouches for."""
    failed = services.tasks.fail_orphans(services.settings.task_stale_after_s, services.owner)
    if failed:
        log.warning("tasks interrupted by a restart are now failed: %s", failed)
    services.retraining.files.sweep()  # split files of retrains the restart ended
    # The default-models job writes model files and their rows without a claim: wait for it.
    with file_lock(defaults_lock_path(services.settings)):
        remove_leftover_files(services.settings, services.db)
