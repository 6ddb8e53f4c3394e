"""What a dataset's labels mean: an optional `{"<label>": "<name>"}` mapping, e.g.
`{"0": "not toxic", "1": "toxic"}`. Labels keep their type; names are for display only.

A dataset gets it at upload (form field `label_names`, a JSON object) or from the bundled
data's known meaning; a model copies its training dataset's names when it is created.
"""

from __future__ import annotations

import json

from backend.errors import DatasetInvalid

# The bundled datasets label 1 for toxic, 0 for not toxic.
TOXIC_LABEL_NAMES = {"0": "not toxic", "1": "toxic"}
MAX_NAME_CHARS = 64


def parse_label_names(raw: str | None, classes: dict[str, int]) -> dict[str, str] | None:
    """The mapping given at upload, checked against the dataset's classes; None when absent.

    Raises DatasetInvalid (400) naming what to fix: not a JSON object of strings, a key that
    is not one of the classes, an empty or over-long name."""
    if raw is None or not raw.strip():
        return None
    try:
        names = json.loads(raw)
    except ValueError as exc:
        raise DatasetInvalid(
            'label_names must be a JSON object such as {"0": "not toxic", "1": "toxic"}'
        ) from exc
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise DatasetInvalid('label_names must be a JSON object of strings, e.g. {"1": "toxic"}')
    unknown = sorted(set(names) - set(classes))
    if unknown:
        raise DatasetInvalid(
            f"label_names names labels the dataset does not have: {unknown[:5]}; "
            f"its classes are {sorted(classes)[:20]}"
        )
    cleaned = {label: name.strip() for label, name in names.items()}
    bad = [
        label
        for label, name in cleaned.items()
        if not name or len(name) > MAX_NAME_CHARS or not name.isprintable()
    ]
    if bad:
        raise DatasetInvalid(
            f"label_names: the names of {bad[:5]} must be 1 to {MAX_NAME_CHARS} printable "
            "characters"
        )
    return cleaned or None
