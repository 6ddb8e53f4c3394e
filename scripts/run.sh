#!/usr/bin/env bash
# Install the app and start backend (port 8000) and frontend (port 8501) on embedded defaults:
# SQLite and models under ./var, fits in a local process pool. Ctrl-C stops both.
# On the first start it downloads NLTK's data for the EDA page when missing and the network
# allows (frontend/nltk_setup.py; otherwise the page says what it skips).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q --disable-pip-version-check -e ".[backend,frontend]"
python3 -m frontend.nltk_setup || true
export BACKEND_URL="${BACKEND_URL:-http://127.0.0.1:${BACKEND_PORT:-8000}}"

# X-Forwarded-For is trusted only from FORWARDED_ALLOW_IPS (default: this machine).
python3 -m uvicorn backend.main:app --host "${BACKEND_HOST:-127.0.0.1}" --port "${BACKEND_PORT:-8000}" \
  --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1,::1}" &
backend_pid=$!
trap 'kill "$backend_pid" 2>/dev/null; wait' EXIT INT TERM

python3 -m streamlit run frontend/app.py --server.port "${FRONTEND_PORT:-8501}" \
  --server.address "${FRONTEND_HOST:-127.0.0.1}" --server.headless true \
  --client.toolbarMode viewer  # no "Deploy" button: it means nothing to analysts
