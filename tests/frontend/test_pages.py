"""Every page through streamlit.testing.v1.AppTest, against the real backend fixture."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import nltk
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.frontend.conftest import APP_PATH, APP_TIMEOUT_S, open_page, texts_of, wait_task
from tests.servers import ServerProcess, free_port, start_backend


def figures(at: AppTest) -> list[dict[str, Any]]:
    """The plotly figures on the page, as JSON."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def button(at: AppTest, label: str) -> Any:
    """The button (plain or form submit) with this label."""
    matches = [b for b in [*at.button, *at.get("form_submit_button")] if b.label == label]
    assert matches, f"no button {label!r} among {[b.label for b in at.button]}"
    return matches[0]


def table_on(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first st.dataframe on the page holding these columns."""
    for frame in at.dataframe:
        value = frame.value
        if set(columns) <= set(getattr(value, "columns", [])):
            return value
    raise AssertionError(f"no table with columns {columns}")


def http(backend: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=backend.url, timeout=60)


def test_data_page_uploads_csv_into_backend_dataset(app: AppTest, small_csv: Path) -> None:
    assert texts_of(app.title) == ["Data"]
    assert any(caption.endswith(" ✓") for caption in texts_of(app.sidebar.caption))
    app.file_uploader(key="data_upload").set_value(
        ("small.csv", small_csv.read_bytes(), "text/csv")
    ).run()
    assert not app.exception
    assert app.selectbox(key="data_text_column").value == "text"
    assert app.selectbox(key="data_label_column").value == "label"
    balance = figures(app)[0]
    assert sorted(balance["data"][0]["x"]) == ["0", "1"]
    assert sorted(balance["data"][0]["y"]) == [700, 1300]

    app.text_input(key="data_name").input("page-upload")
    button(app, "Create dataset on the server").click().run()
    assert not app.exception and not app.error, texts_of(app.error)
    assert "created" in " ".join(texts_of(app.success))
    dataset_id = app.session_state["current_dataset_id"]
    with http_for(app) as client:
        dataset = client.get(f"/api/v1/datasets/{dataset_id}").raise_for_status().json()
    assert dataset["name"] == "page-upload" and dataset["rows"] == 2000
    # The server list shows it and the EDA page can explore the upload.
    assert app.selectbox(key="data_current").value == dataset_id


def http_for(app: AppTest) -> httpx.Client:
    import os

    return httpx.Client(base_url=os.environ["BACKEND_URL"], timeout=60)


def test_data_page_rejects_unreadable_csv(app: AppTest) -> None:
    # The server's own words: the page no longer reads the file itself.
    app.file_uploader(key="data_upload").set_value(("bad.csv", b"just one column\n", "text/csv"))
    app.run()
    assert not app.exception
    assert "no data rows" in " ".join(texts_of(app.error))
    app.file_uploader(key="data_upload").set_value(("bin.csv", b"\x00\x01binary\x00" * 50, "x"))
    app.run()
    assert not app.exception
    assert "Backend error 400" in " ".join(texts_of(app.error))
    assert "binary" in " ".join(texts_of(app.error))


MESSY_CSV = (
    "comment;verdict;target\n"
    "you are nice;0;1\n"
    ";1;1\n"
    "no label here;0;NA\n"
    "привет, как дела;1;1\n"
    "you are awful;1;1\n"
    "have a good day;0;1\n"
).encode("cp1251")


def test_data_page_shows_the_servers_preview(app: AppTest) -> None:
    """Delimiter, encoding, kept and dropped rows are the server's, column choice re-asks it."""
    app.file_uploader(key="data_upload").set_value(("messy.csv", MESSY_CSV, "text/csv")).run()
    assert not app.exception
    captions = " ".join(texts_of(app.caption))
    assert "6 rows × 3 columns" in captions and "cp1251" in captions and "';'" in captions
    # `target` is found by name but holds one class: the server says why, the page shows it.
    assert app.selectbox(key="data_label_column").value == "target"
    assert any("only one class" in text for text in texts_of(app.warning))
    assert not figures(app)

    app.selectbox(key="data_label_column").set_value("verdict").run()
    assert not app.exception and not app.warning, texts_of(app.warning)
    balance = figures(app)[0]
    assert dict(zip(balance["data"][0]["x"], balance["data"][0]["y"], strict=True)) == {
        "0": 3,
        "1": 2,
    }
    assert "1 rows will be dropped: 1 with an empty text, 0 without a label" in " ".join(
        texts_of(app.caption)
    )
    handed = app.session_state["uploaded_frame"]
    assert (handed["content"], handed["text"], handed["label"]) == (MESSY_CSV, "comment", "verdict")


def test_eda_page_renders_every_chart(app: AppTest, small_csv: Path) -> None:
    app.file_uploader(key="data_upload").set_value(
        ("small.csv", small_csv.read_bytes(), "text/csv")
    ).run()
    open_page(app, "eda")
    assert texts_of(app.title) == ["EDA"]
    assert not app.info, texts_of(app.info)  # the shared NLTK data is complete
    charts = figures(app)
    titles = [chart["layout"]["title"]["text"] for chart in charts]
    assert titles == [
        "Rows and duplicated texts per class",
        "Text length (share of texts)",
        "Top unigrams",
        "Top bigrams",
        "Top trigrams",
        "Parts of speech (share of tokens)",
    ]
    assert len(app.image) == 2  # one word cloud per class
    unigrams = {word for trace in charts[2]["data"] for word in trace["y"]}
    assert "the" not in unigrams and "rt" not in unigrams  # stopwords removed
    pos_tags = set(charts[5]["data"][0]["x"])
    assert {"NOUN", "VERB", "ADJ"} <= pos_tags
    captions = " ".join(texts_of(app.caption))
    assert "random sample of up to 1,000 texts per class" in captions


def test_eda_page_explores_a_dataset_already_on_the_server(
    app: AppTest, seeded: dict[str, Any]
) -> None:
    app.session_state["current_dataset_id"] = seeded["dataset"]["id"]
    open_page(app, "eda")
    assert app.radio(key="eda_origin").value == "Dataset on the server"
    assert app.selectbox(key="eda_dataset").value == seeded["dataset"]["id"]
    assert not app.error, texts_of(app.error)
    assert f"{seeded['dataset']['name']}: 2,000 texts" in texts_of(app.subheader)
    assert len(figures(app)) == 6


def test_eda_page_says_what_is_skipped_without_nltk_data(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    app.session_state["uploaded_frame"] = {
        "name": "tiny",
        "fingerprint": "tiny",
        "content": b"text,label\nyou are nice,0\nyou are an idiot,1\nhello,0\n",
        "text": "text",
        "label": "label",
    }
    open_page(app, "eda")
    info = " ".join(texts_of(app.info))
    assert "NLTK data missing" in info and "stopwords" in info
    assert "parts of speech" in info and "python -m nltk.downloader" in info
    assert "Skipped: NLTK's averaged_perceptron_tagger_eng is not installed." in info
    assert len(figures(app)) == 5  # everything but parts of speech
    assert "Stopwords kept." in " ".join(texts_of(app.caption))


def test_train_page_submits_a_fit_and_shows_its_task(
    app: AppTest, seeded: dict[str, Any], backend: ServerProcess
) -> None:
    app.session_state["current_dataset_id"] = seeded["dataset"]["id"]
    open_page(app, "train")
    app.selectbox(key="train_model_type").set_value("complement_nb").run()
    labels = {widget.label for widget in [*app.number_input, *app.checkbox]}
    assert {"alpha", "norm", "min_df", "max_df", "sublinear_tf"} <= labels
    assert "C" not in labels
    app.number_input(key="train_complement_nb_alpha").set_value(0.5)
    app.number_input(key="train_vectorizer_tfidf_ngram_range_max").set_value(2)
    button(app, "Train").click().run()
    assert not app.exception and not app.error, texts_of(app.error)
    accepted = app.session_state["train_last_fit"]
    assert accepted["task_id"] in " ".join(texts_of(app.success))
    with http(backend) as client:
        assert wait_task(client, accepted["task_id"])["status"] == "succeeded"
        model = client.get(f"/api/v1/models/{accepted['model_id']}").json()
    assert model["model_type"] == "complement_nb" and model["params"]["alpha"] == 0.5
    assert model["vectorizer"]["ngram_range"] == [1, 2]
    app.run()
    assert app.get("progress"), "the submitted task is shown with its progress"


def test_train_page_checks_values_before_sending(app: AppTest, seeded: dict[str, Any]) -> None:
    app.session_state["current_dataset_id"] = seeded["dataset"]["id"]
    open_page(app, "train")
    app.number_input(key="train_logreg_C").set_value(0.0)
    button(app, "Train").click().run()
    assert "C: must be > 0" in " ".join(texts_of(app.error))
    assert "train_last_fit" not in app.session_state


def test_backend_refusal_shows_its_detail(app: AppTest) -> None:
    open_page(app, "models")
    app.selectbox(key="models_choice").set_value("default-svc").run()
    button(app, "Unload").click().run()
    assert not app.exception
    errors = texts_of(app.error)
    assert len(errors) == 1 and errors[0].startswith("Backend error 403: "), errors
    assert "Traceback" not in errors[0] and len(errors[0]) > len("Backend error 403: ")


def test_tasks_page_shows_tasks_errors_and_cancels(
    app: AppTest, seeded: dict[str, Any], backend: ServerProcess
) -> None:
    with http(backend) as client:
        failing = (
            client.post(
                "/api/v1/models/fit",
                json={
                    "name": "doomed-fit",
                    "dataset_id": seeded["dataset"]["id"],
                    "model_type": "logreg",
                    "vectorizer": {"min_df": 0.9, "max_df": 0.1},
                },
            )
            .raise_for_status()
            .json()
        )
        failed = wait_task(client, failing["task_id"])
        # A slow fit to cancel: character n-grams of the whole bundled sample.
        slow = (
            client.post(
                "/api/v1/models/fit",
                json={
                    "name": "slow-fit",
                    "dataset_id": "sample-toxic-en",
                    "model_type": "logreg",
                    "params": {"max_iter": 5000},
                    "vectorizer": {"analyzer": "char_wb", "ngram_range": [1, 6]},
                },
            )
            .raise_for_status()
            .json()
        )
    assert failed["status"] == "failed", failed
    open_page(app, "tasks")
    shown = table_on(app, "id", "status", "progress")
    by_task = shown.set_index("id")
    assert by_task.loc[seeded["task_id"], "model"] == "frontend-logreg v1"
    assert by_task.loc[seeded["task_id"], "status"] == "✓ succeeded"
    assert by_task.loc[failing["task_id"], "status"] == "✗ failed"
    assert {seeded["task_id"], failing["task_id"], slow["task_id"]} <= set(shown["id"])
    assert "Refreshing every 2 s" in " ".join(texts_of(app.caption))
    assert app.get("progress"), "running tasks get a progress bar"
    assert failed["error"] in " ".join(texts_of(app.code)), "errors are shown in full"

    app.selectbox(key="tasks_cancel_choice").set_value(slow["task_id"])
    button(app, "Cancel task").click().run()
    assert not app.exception and not app.error, texts_of(app.error)
    with http(backend) as client:
        assert wait_task(client, slow["task_id"], timeout=60)["status"] == "cancelled"
    app.run()
    assert "No task is running." in texts_of(app.caption)


def test_models_page_lists_and_acts_on_models(
    app: AppTest, seeded: dict[str, Any], backend: ServerProcess
) -> None:
    open_page(app, "models")
    shown = table_on(app, "id", "f1", "loaded")
    row = shown.set_index("id").loc[seeded["model_id"]]
    assert row["name"] == "frontend-logreg" and row["version"] >= 1
    assert 0 < row["f1"] <= 1 and row["status"] == "trained"
    assert {"default-logreg", "default-mnb", "default-svc"} <= set(shown["id"])

    app.selectbox(key="models_choice").set_value(seeded["model_id"]).run()
    button(app, "Promote").click().run()
    assert not app.error, texts_of(app.error)
    assert "@production" in " ".join(texts_of(app.success))
    button(app, "Unload").click().run()
    with http(backend) as client:
        model = client.get(f"/api/v1/models/{seeded['model_id']}").json()
    assert model["aliases"] == ["production"] and model["loaded"] is False
    button(app, "Load").click().run()
    assert table_on(app, "id", "f1", "loaded").set_index("id").loc[seeded["model_id"], "loaded"]

    # A default model cannot be removed; the button says so by being disabled.
    app.selectbox(key="models_choice").set_value("default-svc").run()
    assert button(app, "Remove").disabled

    # Download (admin route, may come later): a file to save, or the backend's reason.
    app.selectbox(key="models_choice").set_value(seeded["model_id"]).run()
    button(app, "Prepare download").click().run()
    assert not app.exception
    assert app.get("download_button") or texts_of(app.error)[0].startswith("Backend error")


def test_models_page_remove_all_needs_confirmation(
    frontend_env: ServerProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_csv: Path,
) -> None:
    # A backend of its own: removing every model would starve the other tests.
    private = start_backend(tmp_path / "backend", DEFAULT_MODELS="false")
    try:
        with http(private) as client:
            dataset = (
                client.post(
                    "/api/v1/datasets",
                    files={"file": ("small.csv", small_csv.read_bytes(), "text/csv")},
                )
                .raise_for_status()
                .json()
            )
            for name in ("first", "second"):
                accepted = (
                    client.post(
                        "/api/v1/models/fit",
                        json={"name": name, "dataset_id": dataset["id"], "model_type": "mnb"},
                    )
                    .raise_for_status()
                    .json()
                )
                wait_task(client, accepted["task_id"])
        monkeypatch.setenv("BACKEND_URL", private.url)
        at = AppTest.from_file(APP_PATH, default_timeout=APP_TIMEOUT_S).run()
        open_page(at, "models")
        assert len(table_on(at, "id", "f1", "loaded")) == 2
        button(at, "Remove all models…").click().run()
        assert "cannot be undone" in " ".join(texts_of(at.warning))
        button(at, "Cancel").click().run()
        assert len(table_on(at, "id", "f1", "loaded")) == 2
        button(at, "Remove all models…").click().run()
        button(at, "Yes, remove all").click().run()
        assert not at.exception and not at.error, texts_of(at.error)
        assert "Removed 2 model(s)." in texts_of(at.success)
        assert "No models yet" in " ".join(texts_of(at.info))
    finally:
        private.stop()


def test_predict_page_shows_scores_and_offers_csv(app: AppTest, seeded: dict[str, Any]) -> None:
    open_page(app, "predict")
    app.selectbox(key="predict_model").set_value(seeded["model_id"]).run()
    app.text_area(key="predict_texts").input("have a lovely day\nyou are a stupid idiot\n\n")
    button(app, "Predict").click().run()
    assert not app.exception and not app.error, texts_of(app.error)
    shown = table_on(app, "text", "prediction")
    assert shown["text"].tolist() == ["have a lovely day", "you are a stupid idiot"]
    # Its dataset names no labels: the bar is "class 1 score", predictions stay bare labels.
    assert list(shown.columns) == ["text", "prediction", "class 1 score", "score_0", "score_1"]
    assert shown["prediction"].isin(["0", "1"]).all()
    assert ((shown["score_0"] + shown["score_1"]).round(6) == 1).all()
    assert (shown["class 1 score"] == shown["score_1"]).all()
    assert app.get("download_button")


def test_predict_page_names_labels_and_bars_the_toxic_score(app: AppTest) -> None:
    open_page(app, "predict")
    app.selectbox(key="predict_model").set_value("default-logreg").run()
    app.text_area(key="predict_texts").input("thank you for your help\nyou are a stupid idiot")
    button(app, "Predict").click().run()
    assert not app.exception and not app.error, texts_of(app.error)
    shown = table_on(app, "text", "prediction")
    assert set(shown["prediction"]) <= {"0 · not toxic", "1 · toxic"}
    assert shown["prediction"].tolist()[1] == "1 · toxic"
    # The bar is the toxic class's probability (how good the model is, is not this test's).
    assert (shown["toxic score"] == shown["score_1"]).all()
    assert shown["toxic score"].between(0, 1).all()
    (frame,) = [f for f in app.dataframe if "toxic score" in f.value.columns]
    assert frame.proto.columns and "progress" in frame.proto.columns.lower()


def test_predict_page_from_csv_column(app: AppTest, seeded: dict[str, Any]) -> None:
    open_page(app, "predict")
    app.selectbox(key="predict_model").set_value(seeded["model_id"])
    app.radio(key="predict_mode").set_value("CSV column").run()
    app.file_uploader(key="predict_csv").set_value(
        ("new.csv", b"id,comment\n1,thanks a lot\n2,shut up idiot\n3,nice\n", "text/csv")
    ).run()
    assert app.selectbox(key="predict_column").value == "comment"
    button(app, "Predict").click().run()
    assert len(table_on(app, "text", "prediction")) == 3


def test_compare_page_overlays_roc_curves(
    app: AppTest, seeded: dict[str, Any], backend: ServerProcess
) -> None:
    # The backend evaluates unloaded models: comparing one must neither fail nor load it.
    with http(backend) as client:
        client.post(
            "/api/v1/models/unload", json={"model_id": seeded["model_id"]}
        ).raise_for_status()
    try:
        app.session_state["current_dataset_id"] = seeded["dataset"]["id"]
        open_page(app, "compare")
        app.multiselect(key="compare_models").set_value([seeded["model_id"], "default-mnb"]).run()
        # The seeded model was trained on this dataset: the page warns and offers its held-out
        # split; every row is scored here.
        assert any("scores on training rows are inflated" in w for w in texts_of(app.warning))
        app.checkbox(key="compare_holdout").uncheck().run()
        button(app, "Compare").click().run()
        assert not app.exception and not app.error, texts_of(app.error)
        with http(backend) as client:
            model = client.get(f"/api/v1/models/{seeded['model_id']}").json()
        assert model["loaded"] is False
    finally:
        with http(backend) as client:
            client.post("/api/v1/models/load", json={"model_id": seeded["model_id"]})
    roc, pr, bars, *matrices = figures(app)
    legend = [trace["name"] for trace in roc["data"]]
    assert legend[0].startswith("chance")
    assert all("AUC = 0." in name for name in legend[1:]) and len(legend) == 3
    assert all("AP = 0." in trace["name"] for trace in pr["data"]) and len(pr["data"]) == 2
    metrics = table_on(app, "accuracy", "f1")
    assert len(metrics) == 2 and {"accuracy", "f1", "roc_auc"} <= set(metrics.columns)
    assert len(matrices) == 2
    assert sum(map(sum, matrices[0]["data"][0]["z"])) == seeded["dataset"]["rows"]


def test_prediction_log_page(app: AppTest, seeded: dict[str, Any], backend: ServerProcess) -> None:
    with http(backend) as client:
        client.post(
            "/api/v1/models/predict",
            json={"model_id": seeded["model_id"], "texts": ["logged text"]},
        ).raise_for_status()
        # The log is written by a background thread in batches: wait until it holds the call.
        deadline = time.monotonic() + 30
        while not client.get("/api/v1/predictions").json() and time.monotonic() < deadline:
            time.sleep(0.2)
    open_page(app, "predictions")
    assert texts_of(app.title) == ["Prediction log"]
    assert not app.error, texts_of(app.error)
    log = app.dataframe[0].value
    assert len(log) >= 1


def test_unreachable_backend_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("BACKEND_URL", url)
    monkeypatch.setenv("LOG_DIR", str(tmp_path))
    at = AppTest.from_file(APP_PATH, default_timeout=APP_TIMEOUT_S).run()
    assert not at.exception
    assert any(f"unreachable at {url}" in message for message in texts_of(at.error))
    # Who the visitor is cannot be checked, so no page is reachable, only that message.
    with pytest.raises(ValueError, match="Known pages: \\['Sign in'\\]"):
        at.switch_page("pages/models.py")
    # Failures are logged to LOG_DIR/frontend.log as well as stdout.
    assert f"Backend unreachable at {url}" in (tmp_path / "frontend.log").read_text()


def test_tasks_page_summarises_a_retrain_decision(
    app: AppTest, seeded: dict[str, Any], backend: ServerProcess
) -> None:
    with http(backend) as client:
        model_id = seeded["model_id"]
        name = client.get(f"/api/v1/models/{model_id}").raise_for_status().json()["name"]
        client.post(
            f"/api/v1/models/{model_id}/promote", json={"alias": "production"}
        ).raise_for_status()
        accepted = (
            client.post(
                "/api/v1/models/retrain",
                json={
                    "name": name,
                    "dataset_id": seeded["dataset"]["id"],
                    "min_improvement": 0.5,
                },
            )
            .raise_for_status()
            .json()
        )
        task = wait_task(client, accepted["task_id"])
    assert task["status"] == "succeeded", task
    open_page(app, "tasks")
    labels = [expander.label for expander in app.expander]
    summary = [label for label in labels if accepted["task_id"] in label and "Retrain" in label]
    assert summary, labels
    assert "**kept**" in summary[0] and "challenger f1" in summary[0]


def test_a_utf16_file_is_previewed_by_the_server_and_explored_by_eda(app: AppTest) -> None:
    """UTF-16 with a BOM: the server's preview reads it, and so does the EDA page, which reads
    files with the backend's own rules (toxiclf_csv)."""
    content = "text\tlabel\nhello there\t0\nyou idiot\t1\n".encode("utf-16")
    app.file_uploader(key="data_upload").set_value(("wide.csv", content, "text/csv")).run()
    assert not app.exception and not app.error, texts_of(app.error)
    assert "utf-16" in " ".join(texts_of(app.caption))
    open_page(app, "eda")
    assert not app.exception
    assert not app.error, texts_of(app.error)
    assert figures(app), "the EDA page drew nothing for the UTF-16 file"
