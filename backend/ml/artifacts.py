"""Model files: skops format (no pickle), written atomically, checked by sha256 on load."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio

from backend.files import FileClaim, atomic_file
from backend.ml.model_size import refuse_if_inflates_too_far

# Beyond skops' own default trust list (scikit-learn estimators, numpy and scipy containers)
# only these are trusted: this project's own estimator and preprocessor (plain classes holding
# arrays and options), and the parts of scikit-learn's probability calibration that skops does
# not list. A file naming any other type or function is refused before loading.
EXTRA_TRUSTED: frozenset[str] = frozenset(
    {
        "backend.ml.nbsvm.NBSVMClassifier",
        "backend.ml.lemmatize.Lemmatizer",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
    }
)


class ArtifactError(Exception):
    """A model file that is missing, altered, or holds types we do not trust."""


def atomic_write_bytes(path: Path, payload: bytes, claim: FileClaim | None = None) -> str:
    """Write `payload` to `path` atomically; return its sha256.

    With a claim the file stays locked until the claim ends (its record is committed)."""
    with claim.atomic_file(path) if claim is not None else atomic_file(path) as handle:
        handle.write(payload)
    return hashlib.sha256(payload).hexdigest()


def _vectorizers(pipeline: Any) -> list[Any]:
    steps = getattr(pipeline, "steps", None) or [("", pipeline)]
    found = []
    for _, step in steps:
        parts = getattr(step, "transformer_list", None)  # a FeatureUnion of vectorizers
        for part in [p for _, p in parts] if parts is not None else [step]:
            if hasattr(part, "vocabulary_"):
                found.append(part)
    return found


@contextmanager
def _compact_vocabularies(pipeline: Any) -> Iterator[None]:
    """Store each vocabulary as an array of terms while the pipeline is written.

    skops writes a dict entry by entry; a 44k-term TF-IDF vocabulary took 4.5 s and 28 MB that
    way, and 0.02 s and 6 MB as one array of strings.
    """
    saved = []
    for vectorizer in _vectorizers(pipeline):
        vocabulary = vectorizer.vocabulary_
        if isinstance(vocabulary, dict):
            terms = np.empty(len(vocabulary), dtype=object)
            for term, index in vocabulary.items():
                terms[index] = term
            saved.append((vectorizer, vocabulary))
            vectorizer.vocabulary_ = terms.astype(str)
    try:
        yield
    finally:
        for vectorizer, vocabulary in saved:
            vectorizer.vocabulary_ = vocabulary


def _expand_vocabularies(pipeline: Any) -> Any:
    for vectorizer in _vectorizers(pipeline):
        if isinstance(vectorizer.vocabulary_, np.ndarray):
            vectorizer.vocabulary_ = {
                term: index for index, term in enumerate(vectorizer.vocabulary_.tolist())
            }
    return pipeline


def dumps_compact(pipeline: Any) -> bytes:
    """The skops bytes of `pipeline` in the compact form this server stores."""
    with _compact_vocabularies(pipeline):
        return bytes(sio.dumps(pipeline))


def dumps_portable(pipeline: Any) -> bytes:
    """Plain skops bytes that any `skops.io.load` turns back into the same pipeline."""
    return bytes(sio.dumps(pipeline))


def save_pipeline(pipeline: Any, path: Path, claim: FileClaim | None = None) -> str:
    """Serialize with skops and write atomically; returns the file's sha256."""
    return atomic_write_bytes(path, dumps_compact(pipeline), claim)


def untrusted_types(payload: bytes) -> list[str]:
    """Types in a skops payload that fall outside our allow-list."""
    try:
        found = sio.get_untrusted_types(data=payload)
    except Exception as exc:  # skops raises many kinds on garbage input
        raise ArtifactError(f"not a readable skops model file ({type(exc).__name__})") from None
    return sorted(t for t in found if t not in EXTRA_TRUSTED)


_END_OF_DIRECTORY = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
# A skops file has tens of members; a directory this big is an attack on the parser (each
# entry costs ~0.5 KB as a ZipInfo, and a 200 MB upload could hold 4 million of them).
MAX_DIRECTORY_BYTES = 4 << 20


def inflated_bytes(payload: bytes) -> int:
    """What the members of a skops (zip) payload take once inflated, read from its directory
    alone; raises ArtifactError on anything a plain skops file does not hold.

    Python's zipfile never inflates a member past the size its directory entry declares, so
    this bounds the memory of loading; stored and deflated members only, since the other
    codecs inflate without that cap.
    """
    tail = payload[-(22 + 0xFFFF) :]
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) - at < 22:
        raise ArtifactError("not a readable skops model file (no zip directory)")
    directory_bytes = int.from_bytes(tail[at + 12 : at + 16], "little")
    if directory_bytes > MAX_DIRECTORY_BYTES or _ZIP64_LOCATOR in tail[max(0, at - 20) : at]:
        raise ArtifactError("the model file's zip directory is too large for a skops model")
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ArtifactError(f"not a readable skops model file ({exc})") from None
    odd = {m.compress_type for m in members} - {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
    if odd:
        raise ArtifactError("the model file uses a zip compression skops does not write")
    return sum(member.file_size for member in members)


def loads_trusted(payload: bytes, max_inflated_bytes: int = 0) -> Any:
    """Load a skops payload, refusing any type outside the allow-list.

    With `max_inflated_bytes` (MAX_MODEL_MB), a payload whose members would inflate past it
    is refused from its zip directory, before anything is inflated.
    """
    if max_inflated_bytes:
        refuse_if_inflates_too_far(inflated_bytes(payload), max_inflated_bytes)
    refused = untrusted_types(payload)
    if refused:
        raise ArtifactError("untrusted types in model file: " + ", ".join(refused))
    try:
        return _expand_vocabularies(sio.loads(payload, trusted=sorted(EXTRA_TRUSTED) or None))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise ArtifactError(f"model file could not be loaded ({reason})") from None


def load_pipeline(path: Path, expected_sha256: str | None) -> Any:
    """Read a model file, verify its checksum, and load it with the type allow-list."""
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"model file {path.name} is missing") from None
    if expected_sha256 and hashlib.sha256(payload).hexdigest() != expected_sha256:
        raise ArtifactError(f"model file {path.name} does not match its recorded sha256")
    return loads_trusted(payload)
