"""frontend/nltk_setup.py, which the frontend image build and scripts/run.sh run: it installs
the NLTK data the EDA page needs when missing and the network allows, and never fails without
it. (A real download cannot be shown here: this machine reaches no NLTK server, and NLTK
refuses index URLs on loopback addresses as SSRF.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.servers import REPO_ROOT, SHARED_DIR, free_port

SCRIPT = REPO_ROOT / "frontend" / "nltk_setup.py"
STOPWORDS_ZIP = SHARED_DIR / "nltk_data" / "corpora" / "stopwords.zip"


def run_setup(
    tmp_path: Path, destination: Path, index_url: str, nltk_data: Path
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NLTK_DATA": str(nltk_data), "HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--index-url", index_url, str(destination)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_offline_it_says_what_is_missing_and_succeeds(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/index.xml"
    destination = tmp_path / "nltk_data"
    result = run_setup(tmp_path, destination, closed, destination)
    assert result.returncode == 0, result.stderr
    assert "could not download" in result.stdout and "NLTK_DATA" in result.stdout
    assert not (destination / "corpora").exists()


def test_present_data_is_not_fetched_again(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/index.xml"
    shared = SHARED_DIR / "nltk_data"
    result = run_setup(tmp_path, tmp_path / "unused", closed, shared)
    assert result.returncode == 0, result.stderr
    assert "found" in result.stdout and "missing" not in result.stdout


def test_run_sh_fetches_nltk_data_and_hides_the_deploy_button() -> None:
    run_sh = (REPO_ROOT / "scripts" / "run.sh").read_text()
    assert "python3 -m frontend.nltk_setup" in run_sh
    assert "--client.toolbarMode viewer" in run_sh
