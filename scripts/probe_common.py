"""What the probe scripts share: the development requests, `triage score` on them, the readings
compared (imported by html-mail-probes.py and intake-probes.py)."""
import csv
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data")
SETS = [("bitext-dev.csv", "instruction"), ("banking77-train.csv", "text")]
FIELDS = ["category", "severity", "sentiment", "priority"]


def args():
    """The binary and the rules from the command line (defaults: the release build, the shipped rules)."""
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "triage")
    rules = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "config", "rules.toml")
    return binary, rules


def requests():
    """Every request of the development sets (read here, never copied)."""
    texts = []
    for name, field in SETS:
        with open(os.path.join(DATA, name), encoding="utf-8") as f:
            texts += [r[field] for r in csv.DictReader(f)]
    return texts


def score(binary, rules, tickets):
    """The `triage` objects of tickets given as dicts of body, channel and (optionally) requester."""
    lines = ""
    for n, t in enumerate(tickets):
        event = {"ticket_id": f"P{n}", "customer_id": "C-PROBE", "created_at": "2026-11-20T10:00:00Z",
                 "subject": "", **t}
        lines += json.dumps(event) + "\n"
    out = subprocess.run([binary, "score", "--rules", rules, "--now", "2026-11-20T12:00:00Z"],
                         input=lines, capture_output=True, text=True, check=True).stdout
    return [json.loads(l)["triage"] for l in out.splitlines()]


def readings(binary, rules, tickets):
    """What is compared of each ticket: category, severity, sentiment label, priority."""
    return [{"category": t["category"], "severity": t["severity"],
             "sentiment": t["sentiment"]["label"], "priority": t["priority"]}
            for t in score(binary, rules, tickets)]


def agreement(base, got):
    """The share of tickets read the same as `base`, per field."""
    return [sum(a[f] == b[f] for a, b in zip(base, got)) / len(base) for f in FIELDS]


def header(width):
    print(f"{'shape':<{width}}" + "".join(f"{f:>11}" for f in FIELDS))


def row(width, shape, same):
    print(f"{shape:<{width}}" + "".join(f"{s:>11.4f}" for s in same))
