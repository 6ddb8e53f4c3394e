"""A stand-in for the held-out offensive-tweet benchmark (OLID / OffensEval 2019 subtask A),
built from the Davidson tweets in ../shared/data/toxic_en.csv.

OLID itself is not here. Its format is imitated: user mentions become `@USER`, links `URL`,
hashtags stay, and the offensive share is brought to OLID's training rate (~33%) by keeping
every non-offensive tweet (4,163) and a seeded sample of offensive ones: 6,213 tweets, half
OLID's training size. Davidson's tweets were drawn through a hate-speech lexicon, so the
offensive ones are much easier to spot than OLID's: scores here run far above OLID's (a
model at 0.95 here says little about 0.76 there). It checks the search on tweet-like text at
OLID's class balance, not OLID's difficulty.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

MENTION = re.compile(r"@\w+")
LINK = re.compile(r"https?://\S+|www\.\S+")
POSITIVE_RATE = 0.33


def olid_format(text: str) -> str:
    """Links → `URL`, user mentions → `@USER`, as OLID's tweets were released."""
    return MENTION.sub("@USER", LINK.sub("URL", text))


def olid_proxy(data: Path, seed: int = 0) -> pd.DataFrame:
    """Davidson tweets in OLID's format at OLID's offensive share, shuffled."""
    frame = pd.read_csv(data / "toxic_en.csv", keep_default_na=False)
    negative = frame[frame["label"] == 0]
    wanted = round(len(negative) * POSITIVE_RATE / (1 - POSITIVE_RATE))
    positive = frame[frame["label"] == 1].sample(n=wanted, random_state=seed)
    proxy = pd.concat([negative, positive]).sample(frac=1.0, random_state=seed)
    return proxy.assign(text=proxy["text"].map(olid_format)).reset_index(drop=True)
