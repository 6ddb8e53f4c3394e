"""No single request may take the server down (issue 12, section 2): MAX_CSV_COLUMNS,
MAX_CLASSES, MAX_MODEL_MB, and evaluate bounded in time, memory and answer size.

Each case is an attack that cost seconds to minutes and gigabytes before these limits
(figures in SECURITY.md); the shared backend runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.abuse_payloads import (
    huge_vocabulary_csv,
    inflating_skops,
    many_classes_csv,
    many_classes_skops,
    wide_header_csv,
)
from tests.backend.api_steps import (
    MODELS,
    assert_error,
    fit_ok,
    train,
    upload,
    upload_ok,
    wait_task,
)
from tests.conftest import StartServer
from tests.databases import fresh_postgres_database
from tests.servers import ServerProcess

WIKI_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "toxic_en_wiki.csv"


def _upload_model(client: httpx.Client, payload: bytes, name: str) -> httpx.Response:
    return client.post(
        f"{MODELS}/upload",
        files={"file": ("model.skops", payload, "application/octet-stream")},
        data={"name": name},
    )


def _evaluate(client: httpx.Client, model_id: str, dataset_id: str) -> httpx.Response:
    # The first evaluation starts the worker process: slow on a busy machine.
    return client.post(
        f"{MODELS}/evaluate", json={"model_id": model_id, "dataset_id": dataset_id}, timeout=300
    )


def test_a_header_over_max_csv_columns_is_refused_before_parsing(client: httpx.Client) -> None:
    # A million columns (8 MB) took 106 s and 5.15 GB when the file was parsed first.
    assert_error(upload(client, wide_header_csv(1_000_000)), 400, "MAX_CSV_COLUMNS=100")
    assert_error(upload(client, wide_header_csv(101)), 400, "MAX_CSV_COLUMNS")
    quoted = b'"text","label","a,b,c"\n' + b'"hello there",0,x\n"bye now",1,y\n'
    assert upload_ok(client, quoted)["columns"] == ["text", "label", "a,b,c"]


def test_a_wide_but_allowed_header_is_stored(client: httpx.Client) -> None:
    header = ["text", "label", *(f"extra{i}" for i in range(98))]
    rows = [",".join(["good morning", "0", *["x"] * 98]), ",".join(["you idiot", "1", *["y"] * 98])]
    stored = upload_ok(client, ("\n".join([",".join(header), *rows]) + "\n").encode())
    assert len(stored["columns"]) == 100


def test_more_labels_than_max_classes_are_refused_at_upload(client: httpx.Client) -> None:
    assert_error(upload(client, many_classes_csv(5000)), 400, "MAX_CLASSES=200", "5,000")
    assert_error(upload(client, many_classes_csv(201)), 400, "MAX_CLASSES")
    assert len(upload_ok(client, many_classes_csv(200))["classes"]) == 200


def test_a_fit_whose_model_would_pass_max_model_mb_fails_clearly(client: httpx.Client) -> None:
    # 1.5 MB of text, 200 classes × 160,000 training words: a 256 MB logistic regression.
    dataset = upload_ok(client, huge_vocabulary_csv())
    accepted = fit_ok(
        client,
        dataset["id"],
        "too-big",
        model_type="logreg",
        vectorizer={"min_df": 1, "ngram_range": [1, 1]},
    )
    task = wait_task(client, accepted["task_id"], timeout=300)
    assert task["status"] == "failed", task
    assert "MAX_MODEL_MB=200" in task["error"] and "min_df" in task["error"], task
    model = client.get(f"{MODELS}/{accepted['model_id']}").json()
    assert model["status"] == "failed"


def test_a_model_upload_that_would_inflate_past_max_model_mb_is_refused(
    client: httpx.Client,
) -> None:
    # 0.5 MB on the wire whose coef_ inflates to 512 MiB: it cost +1.05 GB before its 400.
    response = _upload_model(client, inflating_skops(512 << 20), "bomb")
    assert_error(response, 400, "MAX_MODEL_MB=200", "nothing was inflated")


def test_a_model_upload_over_max_classes_is_refused(client: httpx.Client) -> None:
    assert_error(_upload_model(client, many_classes_skops(201), "wide"), 400, "MAX_CLASSES=200")
    accepted = _upload_model(client, many_classes_skops(20), "narrow")
    assert accepted.status_code == 200, accepted.text


def test_evaluate_answers_curves_of_at_most_a_thousand_points(
    client: httpx.Client, full_dataset: dict[str, Any]
) -> None:
    response = _evaluate(client, "default-logreg", str(full_dataset["id"]))
    assert response.status_code == 200, response.text
    answer = response.json()
    roc, pr = answer["roc"], answer["pr"]
    assert 100 < len(roc["fpr"]) <= 1000 and len(roc["fpr"]) == len(roc["thresholds"])
    assert 100 < len(pr["precision"]) <= 1000 and len(pr["recall"]) == len(pr["thresholds"])
    assert roc["fpr"][0] == 0.0 and roc["fpr"][-1] == 1.0 and roc["tpr"][-1] == 1.0
    assert len(answer["confusion_matrix"]) == 2


@pytest.fixture()
def bounded_server(start_server: StartServer, small_csv: Path) -> dict[str, Any]:
    """A server whose evaluations may last 0.3 s and that has every loaded slot taken."""
    server = start_server(EVALUATE_TIMEOUT_S="0.3", MAX_LOADED_MODELS="3")
    client = httpx.Client(base_url=server.url, timeout=120)
    small = upload_ok(client, small_csv)
    return {"server": server, "client": client, "small": small}


def test_evaluate_is_stopped_at_its_time_limit_and_counts_like_a_load(
    bounded_server: dict[str, Any],
) -> None:
    client: httpx.Client = bounded_server["client"]
    small = bounded_server["small"]
    big = upload_ok(client, WIKI_CSV)
    assert_error(_evaluate(client, "default-logreg", big["id"]), 422, "EVALUATE_TIMEOUT_S=0.3")
    # The worker was stopped and the server still answers.
    assert client.get("/health").status_code == 200
    model = train(client, small["id"], "unloaded", model_type="mnb")
    assert not model["loaded"]
    # Three defaults fill MAX_LOADED_MODELS=3: evaluating an unloaded model needs a slot.
    assert_error(_evaluate(client, model["id"], small["id"]), 409, "MAX_LOADED_MODELS=3")
    client.close()


def test_predict_scores_answers_at_most_max_predict_scores_numbers(client: httpx.Client) -> None:
    # 10,000 texts on a 200-class model grew the web process by 410 MB and stalled it 8 s.
    dataset = upload_ok(client, many_classes_csv(200, rows_per_class=5))
    model = train(client, dataset["id"], "two-hundred", model_type="mnb")
    assert len(model["classes"]) == 200  # a stratified split keeps every class in training
    assert client.post(f"{MODELS}/load", json={"model_id": model["id"]}).status_code == 200
    body = {"model_id": model["id"], "texts": ["sample text 7"] * 1001}
    assert_error(
        client.post(f"{MODELS}/predict_scores", json=body),
        413,
        "MAX_PREDICT_SCORES=200000",
        "at most 1,000 texts",
    )
    body["texts"] = body["texts"][:1000]
    answer = client.post(f"{MODELS}/predict_scores", json=body)
    assert answer.status_code == 200 and len(answer.json()["scores"]) == 1000, answer.text
    assert client.post(f"{MODELS}/predict", json={**body, "texts": ["x"] * 5000}).status_code == 200
    client.post(f"{MODELS}/unload", json={"model_id": model["id"]})


def test_more_rows_than_max_dataset_rows_are_refused_before_parsing(client: httpx.Client) -> None:
    # 50 MB of short rows grew the web process by 1.4 GB while pandas parsed them.
    too_many = b"text,label\n" + b"ok,0\nno,1\n" * 500_001
    assert_error(upload(client, too_many), 400, "MAX_DATASET_ROWS=1,000,000")


def test_a_request_carries_at_most_max_predict_chars_characters(client: httpx.Client) -> None:
    # 10,000 texts of 6 KB (a 60 MB body) kept default-logreg's batcher busy for 68 s and grew
    # the web process by 116 MB; every route that runs a model on caller texts is bounded.
    long_texts = ["you are " + "very " * 1200 + "nice"] * 200  # 1.2 million characters
    body = {"model_id": "default-logreg", "texts": long_texts}
    for route in ("predict", "predict_scores"):
        assert_error(
            client.post(f"{MODELS}/{route}", json=body, timeout=120),
            413,
            "MAX_PREDICT_CHARS=1,000,000",
            "1,202,400 characters",
            "the first 166 texts fit",
        )
    # An explanation costs several times a prediction per character: a limit of its own.
    assert_error(
        client.post(f"{MODELS}/explain", json={**body, "texts": long_texts[:34]}, timeout=120),
        413,
        "MAX_EXPLAIN_CHARS=200,000",
        "the first 33 texts fit",
    )
    explained = client.post(
        f"{MODELS}/explain", json={**body, "texts": long_texts[:33]}, timeout=300
    )
    assert explained.status_code == 200 and len(explained.json()["explanations"]) == 33
    assert_error(
        client.post(
            f"{MODELS}/default-logreg/invocations", json={"instances": long_texts}, timeout=120
        ),
        413,
        "MAX_PREDICT_CHARS",
    )
    one_huge = {"model_id": "default-logreg", "texts": ["x" * 1_000_001]}
    assert_error(
        client.post(f"{MODELS}/predict", json=one_huge), 413, "the first text alone has 1,000,001"
    )
    # What fits is answered: 166 of those texts, and 10,000 short ones.
    fitting = client.post(
        f"{MODELS}/predict", json={**body, "texts": long_texts[:166]}, timeout=300
    )
    assert fitting.status_code == 200 and len(fitting.json()["predictions"]) == 166
    many = client.post(f"{MODELS}/predict", json={**body, "texts": ["you idiot"] * 10_000})
    assert many.status_code == 200, many.text


@pytest.fixture(params=["sqlite", "postgresql"])
def timed_server(
    request: pytest.FixtureRequest, start_server: StartServer, tmp_path: Path
) -> Iterator[httpx.Client]:
    """A server without default models whose evaluations may last 0.5 s, once per database."""
    env = {"EVALUATE_TIMEOUT_S": "0.5", "DEFAULT_MODELS": "false"}
    if request.param == "postgresql":
        env["DATABASE_URL"] = fresh_postgres_database()
    server = start_server(tmp_path / "timed", **env)
    with httpx.Client(base_url=server.url, timeout=300) as http:
        yield http


def test_a_holdout_evaluation_runs_in_the_worker_under_evaluate_timeout_s(
    timed_server: httpx.Client,
) -> None:
    # split: holdout re-created the model's held-out rows and scored them inside the web
    # process, without the time limit an evaluation on a dataset has.
    client = timed_server
    wiki = upload_ok(client, WIKI_CSV)
    model = train(
        client,
        wiki["id"],
        "holdout-timed",
        model_type="mnb",
        vectorizer={"max_features": 20_000, "ngram_range": [1, 1]},
    )
    body = {"model_id": model["id"], "split": "holdout"}
    assert_error(client.post(f"{MODELS}/evaluate", json=body), 422, "EVALUATE_TIMEOUT_S=0.5")
    assert client.get("/health").status_code == 200
    # The usual refusals come first, before any worker is asked.
    assert_error(
        client.post(f"{MODELS}/evaluate", json={**body, "model_id": "mdl_nope"}), 404, "mdl_nope"
    )
    assert client.delete(f"/api/v1/datasets/{wiki['id']}").status_code in (200, 204)
    assert_error(client.post(f"{MODELS}/evaluate", json=body), 400, "training data is gone")


def _peak_rss_reset(pid: int) -> int:
    """Reset the process's peak resident memory (VmHWM) and return its current RSS, bytes."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status_kb(pid, "VmRSS") * 1024


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def test_a_csv_of_long_rows_is_imported_in_chunks(
    backend: ServerProcess, client: httpx.Client, tmp_path: Path
) -> None:
    # 200 MB of long rows (under MAX_UPLOAD_MB and MAX_DATASET_ROWS) grew the web process by
    # about 800 MB while pandas parsed it whole and the clean copy was built; now it is read
    # and written in chunks of a few MB. The peak is the kernel's own high-water mark.
    row = ("you are " + "very " * 2000 + "nice").encode()
    rows = 100 * 2**20 // (len(row) + 3)  # 100 MB
    path = tmp_path / "long.csv"
    with path.open("wb") as handle:
        handle.write(b"text,label\n")
        for i in range(rows):
            handle.write(row + b"," + (b"1" if i % 3 else b"0") + b"\n")
    pid = backend.process.pid
    before = _peak_rss_reset(pid)
    with path.open("rb") as handle:
        response = client.post(
            "/api/v1/datasets", files={"file": ("long.csv", handle, "text/csv")}, timeout=600
        )
    peak = _status_kb(pid, "VmHWM") * 1024
    assert response.status_code == 201, response.text
    stored = response.json()
    zeros = len(range(0, rows, 3))
    assert stored["rows"] == rows and stored["classes"] == {"0": zeros, "1": rows - zeros}
    growth_mb = (peak - before) / 2**20
    assert growth_mb < 100, f"the web process grew by {growth_mb:.0f} MB for a 100 MB upload"
    client.delete(f"/api/v1/datasets/{stored['id']}")
