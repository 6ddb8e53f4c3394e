"""`python -m backend.cli`: train and predict without a server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio

from backend.cli import main
from tests.servers import REPO_ROOT


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *map(str, args)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, small_csv: Path) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("cli") / "model.skops"
    done = cli(
        "train",
        "--csv",
        small_csv,
        "--model",
        "logreg",
        "--param",
        "C=2",
        "--vectorizer",
        "ngram_range=1,2",
        "--out",
        out,
    )
    assert done.returncode == 0, done.stderr
    return out, json.loads(done.stdout)


def test_train_writes_a_skops_file_and_prints_metrics(trained: tuple[Path, dict]) -> None:
    out, summary = trained
    assert out.is_file() and sio.get_untrusted_types(file=out) == []
    assert summary["classes"] == [0, 1]
    for metric in ("accuracy", "f1", "roc_auc"):
        assert 0.5 < summary["metrics"][metric] <= 1, summary["metrics"]
    pipeline = sio.load(out)
    assert pipeline.named_steps["classifier"].C == 2
    assert pipeline.named_steps["vectorizer"].ngram_range == (1, 2)


def test_predict_writes_one_row_per_text(
    trained: tuple[Path, dict], small_csv: Path, tmp_path: Path
) -> None:
    texts = pd.read_csv(small_csv, keep_default_na=False).head(50)
    source = tmp_path / "texts.csv"
    texts[["text"]].to_csv(source, index=False)
    out = tmp_path / "predictions.csv"
    done = cli("predict", "--model", trained[0], "--csv", source, "--out", out)
    assert done.returncode == 0, done.stderr
    result = pd.read_csv(out, keep_default_na=False)
    assert len(result) == 50
    assert result["text"].tolist() == texts["text"].tolist()
    assert set(result["prediction"]) <= {0, 1}
    assert (result["prediction"] == sio.load(trained[0]).predict(texts["text"])).all()


def test_bad_param_exits_2_naming_it(small_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "never.skops"
    done = cli("train", "--csv", small_csv, "--param", "C=-1", "--out", out)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "params.C" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


# The same errors in process (faster than a Python start each): exit code 2, a message naming
# what is wrong, no traceback, no output file.
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--param", "gamma=2"), "params.gamma"),
        (("--param", "max_iter=many"), "params.max_iter"),
        (("--model", "mnb", "--param", "C=1"), "params.C"),
        (("--vectorizer", "ngram_range=3,1"), "ngram_range"),
        (("--vectorizer", "analyzer=letters"), "vectorizer.analyzer"),
        (("--param", "C"), "key=value"),
    ],
)
def test_bad_arguments_exit_2_naming_them(
    small_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    needle: str,
) -> None:
    out = tmp_path / "never.skops"
    assert main(["train", "--csv", str(small_csv), *args, "--out", str(out)]) == 2
    stderr = capsys.readouterr().err
    assert needle in stderr and "Traceback" not in stderr
    assert not out.exists()


def test_missing_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.csv")
    assert main(["train", "--csv", missing, "--out", str(tmp_path / "m.skops")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert main(["predict", "--model", str(tmp_path / "none.skops"), "--csv", missing]) == 2
    assert "none.skops" in capsys.readouterr().err


def test_predict_refuses_an_untrusted_file(
    tmp_path: Path, small_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.preprocessing import FunctionTransformer

    evil = tmp_path / "evil.skops"
    sio.dump(FunctionTransformer(eval), evil)
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", str(evil), "--csv", str(small_csv), "--out", str(out)]) == 2
    assert "builtins.eval" in capsys.readouterr().err
    assert not out.exists()
