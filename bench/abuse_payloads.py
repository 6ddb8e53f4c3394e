"""Hostile inputs for the abuse benchmark (bench/abuse.py) and the limit tests.

Each builder returns the bytes an attacker would send; none needs much memory to build.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np


def wide_header_csv(columns: int, rows: int = 3) -> bytes:
    """A CSV whose header names `columns` columns (a million is about 8 MB)."""
    header = ",".join(f"c{i}" for i in range(columns))
    row = ",".join("x" for _ in range(min(columns, 2)))
    return (header + "\n" + "\n".join(row for _ in range(rows)) + "\n").encode()


def many_classes_csv(classes: int, rows_per_class: int = 2) -> bytes:
    """`text,label` with `classes` distinct labels (5,000 classes × 2 rows is about 150 KB)."""
    lines = ["text,label"]
    for label in range(classes):
        lines += [f"sample text {label} number {n},class_{label}" for n in range(rows_per_class)]
    return ("\n".join(lines) + "\n").encode()


def huge_vocabulary_csv(classes: int = 200, words: int = 200_000, per_row: int = 50) -> bytes:
    """`text,label` whose `words` distinct words over `classes` labels make a linear model of
    classes × words weights (200 × 160,000 training words × 8 B = 256 MB) from 1.5 MB."""
    lines = ["text,label"]
    for row, start in enumerate(range(0, words, per_row)):
        text = " ".join(f"w{i}" for i in range(start, min(start + per_row, words)))
        lines.append(f"{text},{row % classes}")
    return ("\n".join(lines) + "\n").encode()


def _tiny_pipeline(classes: int = 2) -> object:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline

    # A small vocabulary keeps the file small however many classes there are.
    texts = [f"text about topic t{i % 20}" for i in range(max(classes, 4))]
    labels = [i % classes for i in range(len(texts))]
    classifier = LogisticRegression() if classes == 2 else MultinomialNB()
    return Pipeline([("vectorizer", TfidfVectorizer()), ("classifier", classifier)]).fit(
        texts, labels
    )


def many_classes_skops(classes: int) -> bytes:
    """A genuine skops pipeline file of a classifier with `classes` classes."""
    import skops.io as sio

    return bytes(sio.dumps(_tiny_pipeline(classes)))


def inflating_skops(inflated_bytes: int = 512 << 20) -> bytes:
    """A genuine skops pipeline file whose `coef_` member inflates to `inflated_bytes`.

    The array is all zeros, so deflate packs 512 MiB into about 0.5 MB; it is written in
    chunks, never held whole.
    """
    import skops.io as sio

    pipeline = _tiny_pipeline(2)
    coef = pipeline.named_steps["classifier"].coef_
    source = zipfile.ZipFile(io.BytesIO(bytes(sio.dumps(pipeline))))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            content = source.read(member)
            if member.filename.endswith(".npy") and _same_array(content, coef):
                _write_zero_array(target, member.filename, inflated_bytes // 8)
            else:
                target.writestr(member, content)
    return target_buffer.getvalue()


def _same_array(npy: bytes, array: np.ndarray) -> bool:
    try:
        loaded = np.load(io.BytesIO(npy), allow_pickle=False)
    except ValueError:
        return False
    return loaded.shape == array.shape and bool(np.array_equal(loaded, array))


def _write_zero_array(target: zipfile.ZipFile, name: str, length: int) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (1, length)}
    )
    chunk = bytes(1 << 20)
    remaining = length * 8
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with target.open(info, "w") as member:
        member.write(header.getvalue())
        while remaining > 0:
            member.write(chunk[: min(len(chunk), remaining)])
            remaining -= len(chunk)
