#!/usr/bin/env python3
"""Human-rated sentiment sets for `make quality`, and the lexicon peer's own figures on them.

Downloads the vaderSentiment 3.3.2 source distribution from PyPI (it ships the human-rated
sets of its paper, Hutto & Gilbert 2014, MIT licence) into a cache outside the clone, writes
each set as CSV (id, rating, label, text) and prints VADER's own scores on the same labels, so
that `triage quality --measure sentiment` can be compared with it in one run. Nothing here is
copied into the repository.

Labels from the raters' mean valence (-4 … +4): <= -0.5 negative, >= 0.5 positive, else
neutral. VADER labels with its documented cut-offs on the compound score (±0.05).

    scripts/sentiment-sets.py [CACHE_DIR]     # default ~/.cache/triage/sentiment
"""
import csv
import os
import subprocess
import sys
import tarfile
from collections import Counter

VERSION = "3.3.2"
SETS = ["amazonReviewSnippets", "tweets", "movieReviewSnippets", "nytEditorialSnippets"]
LABELS = ["negative", "neutral", "positive"]


def label(rating):
    return "negative" if rating <= -0.5 else ("positive" if rating >= 0.5 else "neutral")


def main():
    cache = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/triage/sentiment")
    os.makedirs(cache, exist_ok=True)
    sdist = os.path.join(cache, f"vaderSentiment-{VERSION}.tar.gz")
    if not os.path.exists(sdist):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"vaderSentiment=={VERSION}", "-d", cache], check=True,
                       stdout=subprocess.DEVNULL)
    src = os.path.join(cache, f"vaderSentiment-{VERSION}")
    res = os.path.join(cache, "hutto_ICWSM_2014")
    if not os.path.isdir(res):
        with tarfile.open(sdist) as t:
            t.extractall(cache, filter="data")
        with tarfile.open(os.path.join(src, "additional_resources", "hutto_ICWSM_2014.tar.gz")) as t:
            t.extractall(cache, filter="data")
    sys.path.insert(0, src)
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402
    vader = SentimentIntensityAnalyzer()
    for name in SETS:
        rows = []
        with open(os.path.join(res, f"{name}_GroundTruth.txt"), encoding="utf-8", errors="replace") as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) >= 3:
                    rows.append((p[0], float(p[1]), "\t".join(p[2:])))
        with open(os.path.join(cache, f"{name}.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "rating", "label", "text"])
            for i, r, t in rows:
                w.writerow([i, r, label(r), t])
        conf = Counter()
        for _, r, t in rows:
            c = vader.polarity_scores(t)["compound"]
            conf[(label(r), "negative" if c <= -0.05 else ("positive" if c >= 0.05 else "neutral"))] += 1
        f1s, parts = [], []
        for lab in LABELS:
            tp = conf[(lab, lab)]
            fp = sum(conf[(o, lab)] for o in LABELS if o != lab)
            fn = sum(conf[(lab, o)] for o in LABELS if o != lab)
            p = tp / (tp + fp) if tp + fp else 0.0
            rc = tp / (tp + fn) if tp + fn else 0.0
            f1s.append(2 * p * rc / (p + rc) if p + rc else 0.0)
            parts.append(f"{lab} P {p:.3f} R {rc:.3f}")
        print(f"VADER {VERSION} on {name} ({len(rows)}): macro-F1 {sum(f1s) / 3:.4f}; " + "; ".join(parts))


if __name__ == "__main__":
    main()
