#!/usr/bin/env bash
# Issue 8 benchmark: our backend vs MLflow's scoring server, in one run on this machine.
#   bench/run.sh [run_bench.py options, see --help]
# Prints the table and writes bench/results/latest.md. Installs what it needs when missing:
# wrk (Debian package, needs root) and bench/.venv-mlflow, a bench-only virtual environment
# with MLflow and the project's exact scikit-learn version (the project's own environment
# is left untouched).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=bench/.venv-mlflow

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (apt-get)" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

venv_pip() {
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >>"$VENV/install.log" 2>&1 \
    || { tail -20 "$VENV/install.log" >&2; exit 1; }
}

# MLflow must unpickle the very pipeline trained here, so scikit-learn matches exactly.
sklearn_version="$("$PYTHON" -c 'import sklearn; print(sklearn.__version__)')"
if [ ! -x "$VENV/bin/mlflow" ]; then
  echo "creating $VENV: mlflow, scikit-learn==$sklearn_version, pandas (a few minutes)" >&2
  "$PYTHON" -m venv "$VENV"
  venv_pip --upgrade pip
  venv_pip "mlflow>=2.10" "scikit-learn==$sklearn_version" pandas
else
  venv_sklearn="$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("scikit-learn"))')"
  if [ "$venv_sklearn" != "$sklearn_version" ]; then
    echo "$VENV: scikit-learn $venv_sklearn → $sklearn_version" >&2
    venv_pip "scikit-learn==$sklearn_version"
  fi
fi

exec "$PYTHON" bench/run_bench.py "$@"
