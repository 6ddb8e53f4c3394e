"""Make sure the NLTK data the EDA page uses is installed, downloading what is missing when the
network allows; never fails, so an offline build or first start goes on without it (the EDA page
then says what it skips).

    python frontend/nltk_setup.py [--index-url URL] [DEST]    # or: python -m frontend.nltk_setup

DEST defaults to the first folder of NLTK_DATA, else ~/nltk_data. Packages found anywhere NLTK
looks (NLTK_DATA, ~/nltk_data, /usr/share/nltk_data, ...) or in DEST are not downloaded again.
Standalone (the frontend image runs it before the app's code is copied in): stdlib and nltk only.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import urllib.request
from pathlib import Path

# Package name → the resource path NLTK looks up (as in frontend/eda.py, plus the tokenizer).
PACKAGES: dict[str, str] = {
    "stopwords": "corpora/stopwords",
    "averaged_perceptron_tagger_eng": "taggers/averaged_perceptron_tagger_eng/",
    "universal_tagset": "taggers/universal_tagset",
    "punkt_tab": "tokenizers/punkt_tab",
}
# Bounded waits: a network that drops packets must not hang a build or a first start.
TIMEOUT_S = 15.0


def default_destination() -> Path:
    configured = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    return Path(configured[0]) if configured else Path.home() / "nltk_data"


def missing(destination: Path) -> list[str]:
    """Packages neither in `destination` nor anywhere else NLTK looks."""
    import nltk

    paths = [str(destination), *nltk.data.path]
    absent = []
    for name, resource in PACKAGES.items():
        try:
            nltk.data.find(resource, paths=paths)
        except LookupError:
            absent.append(name)
    return absent


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S):
            return True
    except (OSError, ValueError):
        return False


def fetch(destination: Path, names: list[str], index_url: str | None = None) -> list[str]:
    """Download `names` into `destination` (from NLTK's index, or `index_url`); return the
    ones still missing afterwards."""
    from nltk.downloader import Downloader

    downloader = Downloader(server_index_url=index_url)
    if not reachable(downloader.url):
        return names
    destination.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(TIMEOUT_S)
    try:
        for name in names:
            downloader.download(
                name, download_dir=str(destination), quiet=True, raise_on_error=False
            )
    finally:
        socket.setdefaulttimeout(previous)
    return missing(destination)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("destination", nargs="?", type=Path, default=None)
    parser.add_argument("--index-url", default=None, help="an NLTK data index other than NLTK's")
    args = parser.parse_args(argv[1:])
    destination = args.destination or default_destination()
    absent = missing(destination)
    if not absent:
        print(f"NLTK data: all of {', '.join(PACKAGES)} found")
        return 0
    print(f"NLTK data: {', '.join(absent)} missing; downloading into {destination}")
    still = fetch(destination, absent, args.index_url)
    if still:
        print(
            f"NLTK data: could not download {', '.join(still)} (no network?); the EDA page "
            "will say what it skips. Point NLTK_DATA at a folder that holds them."
        )
    else:
        print("NLTK data: downloaded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
