"""Label names: what a dataset's labels mean, given at upload (or known for the bundled data),
copied to the models trained on it; labels themselves keep their type. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.backend.api_steps import DATASETS, assert_error, get_model, train, upload, upload_ok

TOXIC = {"0": "not toxic", "1": "toxic"}


def test_upload_keeps_label_names_and_models_copy_them(
    client: httpx.Client, small_csv: Path
) -> None:
    dataset = upload_ok(client, small_csv, name="named", label_names=json.dumps(TOXIC))
    assert dataset["label_names"] == TOXIC and dataset["classes"] == {"0": 700, "1": 1300}
    assert client.get(f"{DATASETS}/{dataset['id']}").json()["label_names"] == TOXIC
    model = train(client, dataset["id"], "named-mnb", model_type="mnb")
    assert model["label_names"] == TOXIC and model["classes"] == [0, 1]


def test_label_names_are_optional(client: httpx.Client, small_csv: Path) -> None:
    dataset = upload_ok(client, small_csv, name="unnamed")
    assert dataset["label_names"] is None


def test_bundled_data_and_default_models_say_1_is_toxic(client: httpx.Client) -> None:
    model = get_model(client, "default-logreg")
    assert model["label_names"] == TOXIC
    dataset = client.get(f"{DATASETS}/{model['dataset_id']}").raise_for_status().json()
    assert dataset["label_names"] == TOXIC


@pytest.mark.parametrize(
    ("label_names", "needle"),
    [
        ("not json", "JSON object"),
        ('["toxic"]', "JSON object of strings"),
        ('{"1": 5}', "JSON object of strings"),
        ('{"2": "toxic"}', "does not have: ['2']"),
        ('{"1": "   "}', "1 to 64"),
        (json.dumps({"1": "x" * 65}), "1 to 64"),
        ('{"1": "to\\u0000xic"}', "printable"),
        ('{"1": "tox\u0000ic"}', "NUL"),
    ],
)
def test_bad_label_names_are_400(
    client: httpx.Client, small_csv: Path, label_names: str, needle: str
) -> None:
    response = upload(client, small_csv, label_names=label_names)
    assert_error(response, 400, needle)
