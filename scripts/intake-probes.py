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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe_common import agreement, args, header, readings, requests, row  # noqa: E402

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


def ticket(body, name, channel):
    t = {"body": body, "channel": channel}
    if name:
        t["requester"] = {"email": "jane@example.com", "name": name}
    return t


def main():
    binary, rules = args()
    texts = requests()
    # The request alone, by the channel of each shape (a rule may read the channel).
    alone = {c: readings(binary, rules, [ticket(x, None, c) for x in texts])
             for c in ("chat", "email", "web")}
    print(f"{len(texts)} requests; share read as the request alone:")
    header(20)
    for shape, make in SHAPES:
        made = [make(x) for x in texts]
        got = readings(binary, rules, [ticket(*m) for m in made])
        row(20, shape, agreement(alone[made[0][2]], got))


if __name__ == "__main__":
    main()
