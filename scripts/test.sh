#!/usr/bin/env bash
# Install the project with its test dependencies, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q --disable-pip-version-check -e ".[dev]"
if [ -z "${NLTK_DATA:-}" ] && [ -d ../shared/nltk_data ]; then
  export NLTK_DATA="$(cd ../shared/nltk_data && pwd)"
fi
python3 -m pytest -q "$@"
