#!/usr/bin/env python3
"""Does a request read the same when intake wraps it in a chat transcript or a web form? (../shared/data, not copied)

    scripts/intake-probes.py [TRIAGE_BIN] [RULES]    # defaults: target/release/triage, config/rules.toml

Every request of the development sets (Bitext's `instruction`, BANKING77's `text`) becomes a
ticket (unknown customer) and is triaged with `triage score`: once as the body alone, as the
customer's line of a chat transcript in three shapes chat tools hand over —

- `timed, named`: a Zendesk-style transcript — "Chat started: …", "(10:00:05 AM) Jane Doe: …",
  "*** Sam joined the chat ***" — with the requester's name in `requester.name`; the bot and
  the agent (named, no role) speak before and after the customer;
- `roles`: "[10:00] Bot: …", "[10:00] Visitor: …", "[10:01] Agent: …", no requester;
- `elapsed, mail`: Salesforce-style elapsed times ("( 12s ) Jane Doe: …") sent on by mail
  (channel `email`), the customer's line between the agent's two.

The bot and the agent say what support people say in a chat: a greeting, an apology for "the
outage this morning", a question whether "production is down for all users" or it is "a
security issue", an offer of "a refund", "Have a great day!" — and as the message of a web form
(channel `web`) whose fields say who sent it: "Name:", "Company: Acme Security Ltd", "Job title:
Head of Critical Infrastructure", "Department: Outage Response", "Phone:", "Email:".

Printed: the share of requests whose category, severity, sentiment label and priority are the
same as the request's alone (on the same channel). A reader of the customer's own words agrees
on (nearly) all.
"""
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "..", "shared", "data")
SETS = [("bitext-dev.csv", "instruction"), ("banking77-train.csv", "text")]
GREETING = "Hi there! I'm the Acme virtual assistant. Tell me what went wrong and I'll get you to an agent!"
AGENT = ("I'm so sorry to hear that! We had a major outage this morning and production was down "
         "for all users. Is your whole team affected, or is it a security issue? Urgent cases get a refund.")
CLOSING = "Thanks for your patience, I've escalated this to our engineers. Have a great day!"


def timed_named(text):
    lines = text.split("\n")
    said = "(10:00:05 AM) Jane Doe: " + "\n".join(lines)
    return ("Chat started: 2026-11-20 10:00 AM UTC\n\n(10:00:01 AM) Acme Bot: " + GREETING + "\n"
            + said + "\n(10:00:31 AM) *** Sam joined the chat ***\n(10:00:40 AM) Sam: " + AGENT
            + "\n(10:02:10 AM) Sam: " + CLOSING + "\n"), "Jane Doe", "chat"


def roles(text):
    return ("[10:00] Bot: " + GREETING + "\n[10:00] Visitor: " + text + "\n[10:01] Agent: " + AGENT
            + "\n[10:02] Agent: " + CLOSING + "\n"), None, "chat"


def elapsed_mail(text):
    return ("Chat Started: Friday, November 20, 2026, 10:00:01 (+0000)\nChat Origin: Web\n\n"
            "( 2s ) Sam: " + GREETING + "\n( 12s ) Jane Doe: " + text + "\n( 41s ) Sam: " + AGENT
            + "\n( 1m 30s ) Sam: " + CLOSING + "\n"), "Jane Doe", "email"


def web_form(text):
    return ("Name: Jane Doe\nCompany: Acme Security Ltd\nJob title: Head of Critical Infrastructure\n"
            "Department: Outage Response\nEmail: jane@acme.example\nPhone: +44 20 7946 0000\n\n"
            "Message:\n" + text + "\n"), None, "web"


SHAPES = [("chat: timed, named", timed_named), ("chat: roles", roles),
          ("chat: elapsed, mail", elapsed_mail), ("web form", web_form)]


def score(binary, rules, tickets):
    lines = ""
    for n, (body, name, channel) in enumerate(tickets):
        t = {"ticket_id": f"C{n}", "customer_id": "C-PROBE", "created_at": "2026-11-20T10:00:00Z",
             "subject": "", "body": body, "channel": channel}
        if name:
            t["requester"] = {"email": "jane@example.com", "name": name}
        lines += json.dumps(t) + "\n"
    out = subprocess.run([binary, "score", "--rules", rules, "--now", "2026-11-20T12:00:00Z"],
                         input=lines, capture_output=True, text=True, check=True).stdout
    return [json.loads(l)["triage"] for l in out.splitlines()]


def reading(t):
    return {"category": t["category"], "severity": t["severity"],
            "sentiment": t["sentiment"]["label"], "priority": t["priority"]}


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "triage")
    rules = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "config", "rules.toml")
    texts = []
    for name, field in SETS:
        with open(os.path.join(DATA, name), encoding="utf-8") as f:
            texts += [r[field] for r in csv.DictReader(f)]
    # The request alone, by the channel of each shape (a rule may read the channel).
    alone = {c: [reading(t) for t in score(binary, rules, [(x, None, c) for x in texts])]
             for c in ("chat", "email", "web")}
    fields = ["category", "severity", "sentiment", "priority"]
    print(f"{len(texts)} requests; share read as the request alone:")
    print(f"{'shape':<20}" + "".join(f"{f:>11}" for f in fields))
    for shape, make in SHAPES:
        made = [make(x) for x in texts]
        got = [reading(t) for t in score(binary, rules, made)]
        same = [sum(a[f] == b[f] for a, b in zip(alone[made[0][2]], got)) / len(texts) for f in fields]
        print(f"{shape:<20}" + "".join(f"{s:>11.4f}" for s in same))


if __name__ == "__main__":
    main()
