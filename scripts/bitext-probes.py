#!/usr/bin/env python3
"""Two probes of the text layer on the Bitext development requests (../shared/data, not copied).

    scripts/bitext-probes.py [TRIAGE_BIN] [RULES]     # defaults: target/release/triage, config/rules.toml

Every request becomes a ticket (body = the request, unknown customer) and is triaged with
`triage score`. Then:

1. Category on the requests with deliberate typos (Bitext tag `Z`) against the rest, mapped as
   in `make quality` (INVOICE, PAYMENT, REFUND, CANCELLATION_FEE -> billing; ACCOUNT -> account):
   what spelling tolerance is for.
2. Sentiment by proxy — the set has no sentiment labels. Two groups that say something about the
   customer's state without anyone here labelling them: requests in offensive language (tag `W`),
   which should read negative, and requests whose scripted agent answer opens with an apology
   ("I'm sorry…", "I apologize…"), i.e. the customer reported a problem. Polite requests (tag
   `P`) are shown for contrast. Shares of negative / neutral / positive per group.
"""
import collections
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "..", "shared", "data", "bitext-dev.csv")
CATEGORIES = {"INVOICE": "billing", "PAYMENT": "billing", "REFUND": "billing",
              "CANCELLATION_FEE": "billing", "ACCOUNT": "account"}
APOLOGY = ("i'm sorry", "i apologize", "i understand your frustration", "i'm really sorry",
           "i'm truly sorry", "i'm so sorry")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "triage")
    rules = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "config", "rules.toml")
    rows = list(csv.DictReader(open(DATA, encoding="utf-8")))
    tickets = "".join(
        json.dumps({"ticket_id": f"X{n}", "customer_id": "C-PROBE", "created_at": "2026-11-20T10:00:00Z",
                    "subject": "", "body": r["instruction"], "channel": "email"}) + "\n"
        for n, r in enumerate(rows))
    out = subprocess.run([binary, "score", "--rules", rules, "--now", "2026-11-20T10:00:00Z"],
                         input=tickets, capture_output=True, text=True, check=True).stdout
    triaged = [json.loads(line)["triage"] for line in out.splitlines()]
    assert len(triaged) == len(rows)

    right = collections.defaultdict(lambda: [0, 0])
    groups = collections.defaultdict(collections.Counter)
    for r, t in zip(rows, triaged):
        typos = "Z" in r["tags"]
        if r["category"] in CATEGORIES:
            right[typos][0] += t["category"] == CATEGORIES[r["category"]]
            right[typos][1] += 1
        label = t["sentiment"]["label"]
        groups["all requests"][label] += 1
        if "W" in r["tags"]:
            groups["offensive (W)"][label] += 1
        if r["response"].lower().startswith(APOLOGY):
            groups["agent apologises"][label] += 1
        if "P" in r["tags"]:
            groups["polite (P)"][label] += 1
    print("category accuracy, billing/account requests:")
    for typos in (False, True):
        ok, n = right[typos]
        print(f"  {'with typos (Z)' if typos else 'without typos':16s} {ok / n:.3f}  ({ok}/{n})")
    print("sentiment shares (negative / neutral / positive):")
    for name, c in groups.items():
        n = sum(c.values())
        print(f"  {name:18s} n={n:5d}  {c['negative'] / n:.2f} / {c['neutral'] / n:.2f} / {c['positive'] / n:.2f}")


if __name__ == "__main__":
    main()
