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
import html
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe_common import agreement, args, header, readings, requests, row  # noqa: E402

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


def main():
    binary, rules = args()
    texts = requests()
    plain = readings(binary, rules, [{"body": t, "channel": "email"} for t in texts])
    print(f"{len(texts)} requests; share read as in plain text:")
    header(16)
    for shape, make in SHAPES:
        got = readings(binary, rules, [{"body": make(x), "channel": "email"} for x in texts])
        row(16, shape, agreement(plain, got))


if __name__ == "__main__":
    main()
