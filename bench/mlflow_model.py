"""Save a fitted pipeline as an MLflow model. Runs with bench/.venv-mlflow's python:

    bench/.venv-mlflow/bin/python bench/mlflow_model.py PIPELINE.joblib OUT_DIR

The signature is a 1-D string tensor, so the scoring server hands the pipeline an array of
texts. Without it (or with a column signature) MLflow passes a DataFrame, and a
TfidfVectorizer iterates over its column names: one prediction for any number of rows.
"""

from __future__ import annotations

import sys

import joblib
import mlflow.sklearn
import numpy as np
from mlflow.models import infer_signature


def main(pipeline_path: str, out_dir: str) -> None:
    pipeline = joblib.load(pipeline_path)
    example = np.array(["an example text", "another one"], dtype=object)
    signature = infer_signature(example, pipeline.predict(example))
    mlflow.sklearn.save_model(pipeline, out_dir, signature=signature)
    print(f"saved with mlflow {mlflow.__version__}: {signature.inputs}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
