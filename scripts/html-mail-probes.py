#!/usr/bin/env python3
"""Does a request sent as HTML mail read as the same request in plain text? (../shared/data, not copied)

    scripts/html-mail-probes.py [TRIAGE_BIN] [RULES]    # defaults: target/release/triage, config/rules.toml

Every request of the development sets (Bitext's `instruction`, BANKING77's `text`) becomes a
ticket (body = the request, unknown customer) and is triaged with `triage score` four times: as
plain text, and as the HTML part of a mail in three shapes mail clients send —

- `html`: the text escaped as a web mail client writes it ("don&#39;t", `<br>` for line breaks,
  in a `<div dir="ltr">`);
- `gmail reply`: the same above Gmail's reply markup quoting the support team's earlier message
  (a `gmail_quote` div with "On … wrote:", a `<blockquote>`), a message that names an outage, a
  data breach and a refund;
- `outlook reply`: Outlook's document (a style sheet in `<head>`, `MsoNormal` paragraphs with
  `&nbsp;`) with its "From: … Sent: … To: … Subject:" block and the same earlier message.

Printed: the share of requests whose category, severity, sentiment label and priority are the
same as the plain text's. The earlier message is the support team's words, not the customer's:
a reader of the customer's own words agrees on (nearly) all.
"""
import csv
import html
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "..", "shared", "data")
SETS = [("bitext-dev.csv", "instruction"), ("banking77-train.csv", "text")]
EARLIER = ("Hello,<br><br>We are sorry: production is down for all users after a data breach. "
           "Our engineers are working on it urgently and will refund affected invoices.<br><br>"
           "Best regards,<br>Support")


def escaped(text):
    return html.escape(text, quote=True).replace("&#x27;", "&#39;").replace("\n", "<br>")


def as_html(text):
    return '<div dir="ltr">' + escaped(text) + "</div>"


def gmail_reply(text):
    return (as_html(text) + '<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            "On Mon, Nov 23, 2026 at 9:14&#8239;AM Support Team &lt;<a href=\"mailto:support@example.com\">"
            "support@example.com</a>&gt; wrote:<br></div><blockquote class=\"gmail_quote\" "
            'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'
            '<div dir="ltr">' + EARLIER + "</div></blockquote></div>")


def outlook_reply(text):
    paras = "".join('<p class="MsoNormal">' + (escaped(p) if p else "&nbsp;") + "<o:p></o:p></p>"
                    for p in text.split("\n"))
    return ('<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv="Content-Type" '
            'content="text/html; charset=utf-8"><style><!-- @font-face {font-family:"Cambria Math";} '
            "p.MsoNormal {margin:0in; font-size:11.0pt;} --></style></head><body lang=\"EN-US\">"
            '<div class="WordSection1">' + paras + '<p class="MsoNormal"><o:p>&nbsp;</o:p></p><div>'
            '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">'
            '<p class="MsoNormal"><b>From:</b> Support Team &lt;support@example.com&gt;<br><b>Sent:</b> '
            "Monday, November 23, 2026 9:14 AM<br><b>To:</b> Jane Doe &lt;jane@example.com&gt;<br>"
            "<b>Subject:</b> RE: your ticket<o:p></o:p></p></div></div><p class=\"MsoNormal\">" + EARLIER
            + "<o:p></o:p></p></div></body></html>")


SHAPES = [("html", as_html), ("gmail reply", gmail_reply), ("outlook reply", outlook_reply)]


def score(binary, rules, texts):
    lines = "".join(
        json.dumps({"ticket_id": f"H{n}", "customer_id": "C-PROBE", "created_at": "2026-11-20T10:00:00Z",
                    "subject": "", "body": t, "channel": "email"}) + "\n"
        for n, t in enumerate(texts))
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
    plain = [reading(t) for t in score(binary, rules, texts)]
    fields = ["category", "severity", "sentiment", "priority"]
    print(f"{len(texts)} requests; share read as in plain text:")
    print(f"{'shape':<16}" + "".join(f"{f:>11}" for f in fields))
    for shape, make in SHAPES:
        got = [reading(t) for t in score(binary, rules, [make(x) for x in texts])]
        same = [sum(a[f] == b[f] for a, b in zip(plain, got)) / len(texts) for f in fields]
        print(f"{shape:<16}" + "".join(f"{s:>11.4f}" for s in same))


if __name__ == "__main__":
    main()
