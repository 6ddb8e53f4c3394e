"""The pure pieces behind the request bounds: curve thinning, the confusion-matrix cap, the
model-size estimate and the zip-directory check of model uploads."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from backend.ml.artifacts import ArtifactError, inflated_bytes
from backend.ml.metrics import CURVE_MAX_POINTS, confusion, thin_curve
from backend.ml.model_size import ModelTooLarge, estimate_model_bytes, refuse_if_too_large


def test_thin_curve_keeps_ends_and_alignment() -> None:
    n = 50_000
    curve = {"x": np.linspace(0, 1, n), "y": np.linspace(0, 1, n) ** 2, "t": np.arange(n)}
    thinned = thin_curve(curve)
    assert len(thinned["x"]) == len(thinned["y"]) == len(thinned["t"]) <= CURVE_MAX_POINTS
    assert thinned["x"][0] == 0.0 and thinned["x"][-1] == 1.0 and thinned["t"][-1] == n - 1
    assert all(y == pytest.approx(x**2) for x, y in zip(thinned["x"], thinned["y"], strict=True))
    short = {"x": [0.0, 0.5, 1.0], "y": [0.0, 0.2, 1.0]}
    assert thin_curve(short) == short


def test_confusion_matrix_is_left_out_over_max_classes() -> None:
    truth = np.arange(300) % 201
    assert confusion(truth, truth, list(range(201)), max_classes=200) == []
    assert len(confusion(truth, truth, list(range(201)), max_classes=201)) == 201


def test_model_size_estimate_counts_weights_per_class() -> None:
    vectorizer = TfidfVectorizer().fit([f"w{i}" for i in range(1000)])
    binary = estimate_model_bytes(vectorizer, 2, "logreg")
    assert binary is not None and binary >= 1000 * 8
    many = estimate_model_bytes(vectorizer, 200, "logreg")
    assert many is not None and many >= 200 * 1000 * 8
    assert estimate_model_bytes(vectorizer, 2, "mnb") >= 2 * 2 * 1000 * 8  # type: ignore[operator]
    with pytest.raises(ModelTooLarge, match="MAX_MODEL_MB=1"):
        refuse_if_too_large(2 << 20, 1 << 20, estimated=True)
    refuse_if_too_large(2 << 20, 0, estimated=True)  # 0 = no limit


def _zip(compression: int, members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_inflated_bytes_reads_the_directory_only() -> None:
    payload = _zip(zipfile.ZIP_DEFLATED, {"schema.json": b"{}", "a.npy": bytes(1 << 20)})
    assert len(payload) < 10_000 and inflated_bytes(payload) == (1 << 20) + 2
    with pytest.raises(ArtifactError, match="compression"):
        inflated_bytes(_zip(zipfile.ZIP_BZIP2, {"a.npy": bytes(100)}))
    with pytest.raises(ArtifactError, match="zip directory"):
        inflated_bytes(b"not a zip at all")
