"""Moderators' corrections: the right label for a text a model saw, and the dataset they make.

Feedback needs the text, since it becomes training data. By prediction id the text comes from
the prediction log; when the log keeps no texts (LOG_PREDICTION_TEXTS=false) the client must
send it along, and it is accepted only if its sha256 is the logged one, so a label can never
be attached to another text. Repeats for one prediction (or one text of one model) replace the
earlier label: the latest word of a moderator wins.
"""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.db.models import FeedbackRow, ModelRow, utcnow
from backend.db.session import Database
from backend.errors import BadRequest, Conflict, NotFound
from backend.schemas.datasets import DatasetInfo
from backend.schemas.monitoring import (
    FeedbackInfo,
    FeedbackRequest,
    FeedbackSummary,
    feedback_info,
)
from backend.services.datasets import DatasetService
from backend.services.ids import new_id
from backend.services.prediction_log import PredictionLog, text_hash
from backend.services.registry import ModelRegistry

log = logging.getLogger(__name__)

# The log is written by a background thread every half second or so: a correction sent right
# after its prediction (to the same server process) waits up to this long for the row.
LOG_WAIT_S = 3.0


class FeedbackService:
    def __init__(
        self,
        db: Database,
        registry: ModelRegistry,
        prediction_log: PredictionLog,
        datasets: DatasetService,
    ) -> None:
        self.db = db
        self.registry = registry
        self.prediction_log = prediction_log
        self.datasets = datasets

    # --- recording ------------------------------------------------------------------

    def submit(self, request: FeedbackRequest, role: str | None) -> FeedbackInfo:
        if request.prediction_id is not None:
            model_id, text, predicted = self._from_log(request.prediction_id, request.text)
            key = f"p:{request.prediction_id}"
        else:
            assert request.model_id is not None and request.text is not None
            model_id, text, predicted = request.model_id, request.text, None
            key = None
        model = self.registry.row(model_id)
        label = _known_label(model, request.label)
        if predicted is not None:
            predicted = next(
                (c for c in model.classes or [] if str(c) == str(predicted)), predicted
            )
        sha = text_hash(text)
        values: dict[str, Any] = {
            "model_id": model.id,
            "prediction_id": request.prediction_id,
            "text": text,
            "sha256": sha,
            "label": label,
            "predicted": predicted,
            "role": role,
            "dedupe_key": key or f"t:{sha}",
            "created_at": utcnow(),
        }
        for _attempt in range(3):  # two moderators at once race for the insert
            with self.db.session() as session:
                existing = session.scalar(
                    select(FeedbackRow).where(
                        FeedbackRow.model_id == model.id,
                        FeedbackRow.dedupe_key == values["dedupe_key"],
                    )
                )
                if existing is not None:
                    for name, value in values.items():
                        setattr(existing, name, value)
                    session.flush()
                    return feedback_info(existing)
            try:
                with self.db.session() as session:
                    row = FeedbackRow(id=new_id("fb"), **values)
                    session.add(row)
                return feedback_info(row)
            except IntegrityError:
                continue
        raise Conflict("the same feedback is being written concurrently; send it again")

    def _from_log(self, prediction_id: str, sent_text: str | None) -> tuple[str, str, Any]:
        """The model, the text and the model's answer of a logged prediction."""
        deadline = time.monotonic() + LOG_WAIT_S
        found = self.prediction_log.find(prediction_id)
        while (
            found is None
            and self.prediction_log.is_unwritten(prediction_id)
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
            found = self.prediction_log.find(prediction_id)
        if found is None:
            raise NotFound(
                f"prediction {prediction_id!r} is not in the prediction log; use an id from a "
                "predict answer (the log keeps PREDICTION_LOG_RETENTION_DAYS days)"
            )
        row, index = found
        item = row.items[index]
        text = item.get("text")
        if text is None:
            if sent_text is None:
                raise Conflict(
                    "the prediction log keeps no texts (LOG_PREDICTION_TEXTS=false), and "
                    "feedback needs one: send the predicted text along with the prediction_id "
                    "and label"
                )
            if text_hash(sent_text) != item.get("sha256"):
                raise BadRequest(
                    f"the text sent is not the text of prediction {prediction_id}; send the "
                    "exact text that was predicted"
                )
            text = sent_text
        elif sent_text is not None and sent_text != text:
            raise BadRequest(f"the text sent is not the text of prediction {prediction_id}")
        return row.model_id, text, _answer(item.get("prediction"))

    # --- reading --------------------------------------------------------------------

    def list(self, model_id: str | None, since: datetime | None, limit: int) -> list[FeedbackInfo]:
        statement = select(FeedbackRow)
        if model_id:
            statement = statement.where(FeedbackRow.model_id == self._model_id(model_id))
        if since is not None:
            statement = statement.where(FeedbackRow.created_at >= since)
        statement = statement.order_by(FeedbackRow.created_at.desc(), FeedbackRow.id.desc())
        with self.db.session() as session:
            return [feedback_info(r) for r in session.scalars(statement.limit(limit))]

    def summary(self, model_ref: str) -> FeedbackSummary:
        model_id = self._model_id(model_ref)
        with self.db.session() as session:
            # Counted here, not by GROUP BY: PostgreSQL cannot compare JSON values.
            rows = session.execute(
                select(FeedbackRow.label, FeedbackRow.predicted).where(
                    FeedbackRow.model_id == model_id
                )
            ).all()
        by_label: dict[str, int] = {}
        known = disagreed = 0
        for label, predicted in rows:
            count = 1
            by_label[str(label)] = by_label.get(str(label), 0) + count
            if predicted is not None:
                known += count
                disagreed += count if str(predicted) != str(label) else 0
        return FeedbackSummary(
            model_id=model_id,
            n=sum(by_label.values()),
            with_prediction=known,
            disagreed=disagreed,
            disagreement_share=disagreed / known if known else None,
            by_label=by_label,
        )

    def _model_id(self, model_ref: str) -> str:
        if "\x00" in model_ref:
            raise BadRequest("the model id must not contain NUL characters")
        return self.registry.row(model_ref).id

    # --- the dataset ----------------------------------------------------------------

    def dataset(self, model_ref: str) -> DatasetInfo:
        """The model's corrections as a stored `text,label` dataset (latest label per text)."""
        model = self.registry.row(model_ref) if "\x00" not in model_ref else None
        if model is None:
            raise BadRequest("the model id must not contain NUL characters")
        with self.db.session() as session:
            rows = session.execute(
                select(FeedbackRow.sha256, FeedbackRow.text, FeedbackRow.label)
                .where(FeedbackRow.model_id == model.id)
                .order_by(FeedbackRow.created_at.desc(), FeedbackRow.id.desc())
            ).all()
        if not rows:
            raise Conflict(f"model {model.id} has no feedback yet; POST /api/v1/feedback first")
        latest: dict[str, tuple[str, Any]] = {}
        for sha, text, label in rows:  # newest first: the first label of a text wins
            latest.setdefault(str(sha), (str(text), label))
        frame = pd.DataFrame(list(latest.values()), columns=["text", "label"])
        if frame["label"].astype(str).nunique() < 2:
            raise Conflict(
                f"the feedback on model {model.id} holds one label only "
                f"({frame['label'].iloc[0]!r}); a dataset needs corrections of 2 classes or more"
            )
        uploads = self.datasets.settings.uploads_dir
        uploads.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "wb", dir=uploads, suffix=".upload", delete=False
        ) as handle:
            path = Path(handle.name)
        try:
            frame.to_csv(path, index=False, encoding="utf-8")
            stamp = utcnow().strftime("%Y%m%d-%H%M%S")
            info = self.datasets.import_file(
                path, dataset_id=new_id("ds"), name=f"feedback {model.name} {stamp}"[:255]
            )
        finally:
            path.unlink(missing_ok=True)
        log.info(
            "feedback dataset %s built from %d corrections of %s", info.id, len(frame), model.id
        )
        return info


def _known_label(model: ModelRow, label: Any) -> Any:
    """The model's own class that `label` names (the JSON may carry 1 for "1" or back)."""
    classes = list(model.classes or [])
    for known in classes:
        if known == label or str(known) == str(label):
            return known
    raise BadRequest(f"label {label!r} is not one of the model's classes {classes}")


def _answer(prediction: Any) -> Any:
    """The model's label in a log item: predict logs it, predict_scores logs the scores."""
    if isinstance(prediction, dict):
        return max(prediction, key=lambda label: prediction[label]) if prediction else None
    return prediction
