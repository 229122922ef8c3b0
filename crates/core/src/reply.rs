//! The customer's own words of an email body: what a reply quotes of the
//! thread before it is left unread. Help-desk mail carries its history —
//! quoted lines ("> …") and, below a reply header ("On Mon, 3 Nov 2026,
//! Jane wrote:", "-----Original Message-----", an Outlook "From: … Sent: …"
//! block), the earlier messages, often the support team's own words
//! ("production is down for all users, we are working on it"). Read as the
//! customer's, they decide a category, a severity and a sentiment the
//! customer did not state.

use std::borrow::Cow;

/// Subject prefixes of a forwarded message ("Fwd:", German "WG:", French
/// "TR:"): what the customer sends on is theirs to report, read whole.
const FORWARD_SUBJECTS: [&str; 4] = ["fw:", "fwd:", "wg:", "tr:"];

/// Lines that open a forwarded message in its body.
const FORWARD_MARKERS: [&str; 2] = ["forwarded message", "begin forwarded message"];

/// A reply header's opening word and its verb, by language ("On … wrote:",
/// "Am … schrieb Jane <…>:", "Le … a écrit :", "El … escribió:"); the
/// header ends with ":".
const REPLY_HEADERS: [(&str, &str); 4] = [
    ("On ", " wrote"),
    ("Am ", " schrieb "),
    ("Le ", " a écrit"),
    ("El ", " escribió"),
];

/// Outlook's header block: a "From:" line with one of these within the
/// next three lines.
const OUTLOOK_FROM: [&str; 2] = ["From:", "Von:"];
const OUTLOOK_NEXT: [&str; 5] = ["Sent:", "Date:", "Gesendet:", "To:", "An:"];

/// What [`own_words`] left unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unread {
    /// Bytes of the body not read.
    pub bytes: usize,
}

/// `body` without what it quotes of earlier messages: lines opening with
/// ">" and everything from a reply header on; the body as it is when it
/// quotes nothing, when `subject` or the body says it is a forward, or when
/// nothing of the customer's own (no letter or digit) would be left. Also
/// how many bytes were left unread (none when the body is read whole).
pub fn own_words<'b>(subject: &str, body: &'b str) -> (Cow<'b, str>, Option<Unread>) {
    let whole = (Cow::Borrowed(body), None);
    // Most bodies quote nothing: no line opens as quoted text or a header
    // does (a few bytes compared per line).
    if !opens_quote(body) {
        return whole;
    }
    let lines: Vec<&str> = body.split_inclusive('\n').collect();
    // Where the history starts: the first reply header's line.
    let cut = (0..lines.len())
        .find(|&i| header_at(&lines, i))
        .unwrap_or(lines.len());
    let quoted = |l: &str| l.trim_start().starts_with('>');
    let own: Vec<&str> = lines[..cut]
        .iter()
        .copied()
        .filter(|l| !quoted(l))
        .collect();
    let kept: usize = own.iter().map(|l| l.len()).sum();
    if kept == body.len()
        || !own.iter().any(|l| l.chars().any(char::is_alphanumeric))
        || forwarded(subject, body)
    {
        return whole;
    }
    let unread = Some(Unread {
        bytes: body.len() - kept,
    });
    // Nothing quoted above the header: the body's first part, as it is.
    let prefix: usize = lines[..cut].iter().map(|l| l.len()).sum();
    if kept == prefix {
        return (Cow::Borrowed(&body[..prefix]), unread);
    }
    (Cow::Owned(own.concat()), unread)
}

/// A line of `body` opens with ">", "--" or a header's first word: it may
/// quote ([`header_at`] decides).
fn opens_quote(body: &str) -> bool {
    let b = body.as_bytes();
    let mut starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', b).map(|i| i + 1));
    starts.any(|i| {
        // Past the indent (ASCII: still a character boundary).
        let i = i + b[i..]
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\t'))
            .count();
        // Only a line opening with one of these bytes is compared.
        if !matches!(
            b.get(i),
            Some(b'>' | b'-' | b'O' | b'A' | b'L' | b'E' | b'F' | b'V')
        ) {
            return false;
        }
        let line = &body[i..];
        line.starts_with('>')
            || line.starts_with("--")
            || REPLY_HEADERS.iter().any(|(open, _)| line.starts_with(open))
            || OUTLOOK_FROM.iter().any(|f| line.starts_with(f))
    })
}

/// The body or the subject says the message is a forward.
fn forwarded(subject: &str, body: &str) -> bool {
    let s = subject.trim_start();
    let fw = FORWARD_SUBJECTS.iter().any(|p| {
        s.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    });
    fw || body.lines().any(|l| {
        let l = l.trim().trim_matches(['-', ' ']);
        FORWARD_MARKERS.iter().any(|m| {
            l.get(..m.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(m))
        })
    })
}

/// Line `i` of `lines` opens the quoted history: "On … wrote:" (the
/// closing word on this line or the next: clients wrap long headers), a
/// dashed "Original Message" line, or Outlook's "From:" with "Sent:",
/// "Date:" or "To:" within the next three lines.
fn header_at(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    let next = lines.get(i + 1).map_or("", |l| l.trim());
    // (Wrapped, the header's second line ends it.)
    let end = if line.ends_with(':') { "" } else { next };
    let reply = (line.ends_with(':') || end.ends_with(':'))
        && REPLY_HEADERS.iter().any(|(open, verb)| {
            line.starts_with(open) && (line.contains(verb) || end.contains(verb.trim_start()))
        });
    let original = line.starts_with('-') && line.to_ascii_lowercase().contains("original message");
    let outlook = OUTLOOK_FROM.iter().any(|f| line.starts_with(f))
        && lines[i + 1..]
            .iter()
            .take(3)
            .any(|l| OUTLOOK_NEXT.iter().any(|n| l.trim_start().starts_with(n)));
    reply || original || outlook
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(body: &str) -> String {
        own_words("Re: export", body).0.into_owned()
    }

    #[test]
    fn a_reply_is_read_without_the_thread_it_quotes() {
        // Below a reply header, by language and as clients wrap it.
        for (body, mine) in [
            (
                "Thanks, that fixed it.\n\nOn Mon, 3 Nov 2026 at 10:02, Support <help@example.com> wrote:\n> Production is down for all users.\n",
                "Thanks, that fixed it.\n\n",
            ),
            (
                "Still broken for me.\nOn Mon, 3 Nov 2026 at 10:02, Jane Doe <jane@example.com>\nwrote:\nWe deployed a fix.\n",
                "Still broken for me.\n",
            ),
            (
                "Danke!\n\nAm 03.11.2026 um 10:02 schrieb Support <help@example.com>:\nDas Problem ist gelöst.\n",
                "Danke!\n\n",
            ),
            (
                "See below.\r\n-----Original Message-----\r\nFrom: Support\r\nThe outage is over.\r\n",
                "See below.\r\n",
            ),
            (
                "Any update?\n\n________________________________\nFrom: Support Team\nSent: Monday, November 3, 2026 10:02\nTo: Jane\nSubject: Outage\n\nProduction is down.\n",
                "Any update?\n\n________________________________\n",
            ),
        ] {
            let (read, unread) = own_words("Re: export", body);
            assert_eq!(read, mine, "{body:?}");
            assert!(matches!(read, Cow::Borrowed(_)), "a prefix: {body:?}");
            assert_eq!(unread, Some(Unread { bytes: body.len() - mine.len() }));
        }
        // Quoted lines between the customer's own are left out.
        assert_eq!(
            own("> Is production still down?\nNo, it works now.\n> Anything else?\nNo, thanks!"),
            "No, it works now.\nNo, thanks!"
        );
    }

    #[test]
    fn a_body_that_quotes_nothing_is_read_whole() {
        for body in [
            "The export fails with an error since Monday.",
            // ">" in the text, "From:" and "wrote:" not opening a header.
            "When the total is > 100 the export fails.\nFrom: the export page.",
            "Our CFO wrote: we need the invoice today.",
            "On Monday the export failed.",
        ] {
            let (read, unread) = own_words("Export", body);
            assert_eq!(read, body);
            assert_eq!(unread, None);
        }
        // A forward is the customer's to report, header and all.
        let fw =
            "FYI, see the error below.\n\nOn Mon, 3 Nov 2026, Jane wrote:\n> The export crashed.\n";
        assert_eq!(own_words("Fwd: export", fw).0, fw);
        let fw2 = "See below.\n---------- Forwarded message ---------\nFrom: Jane\nDate: Mon\n\nThe export crashed.\n";
        assert_eq!(own_words("Export", fw2).0, fw2);
        // Nothing of their own: the whole body.
        let all = "> The export crashed.\n> Please help.\n";
        assert_eq!(own_words("Re: export", all).0, all);
        let header_first = "On Mon, 3 Nov 2026, Jane wrote:\nThe export crashed.\n";
        assert_eq!(own_words("Re: export", header_first).0, header_first);
    }
}
