//! The customer's own words of an email body: what a reply quotes of the
//! thread before it, the sender's signature and a legal notice are left
//! unread. Help-desk mail carries its history — quoted lines ("> …") and,
//! below a reply header ("On Mon, 3 Nov 2026, Jane wrote:", "-----Original
//! Message-----", an Outlook "From: … Sent: …" block), the earlier
//! messages, often the support team's own words ("production is down for
//! all users, we are working on it") — and its sender's furniture: a
//! signature ("Head of Critical Infrastructure | Acme Security Ltd") and a
//! confidentiality notice ("… any unauthorized use … data breach …"). Read
//! as the customer's, they decide a category, a severity and a sentiment
//! the customer did not state.

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

/// Closing words a signature follows, alone on their line ("Best
/// regards,", "Thanks!", "Mit freundlichen Grüßen"), or with the sender's
/// name after a comma ("Best, Jane"); lower case, sorted.
const CLOSINGS: [&str; 34] = [
    "all the best",
    "atentamente",
    "best",
    "best regards",
    "best wishes",
    "beste grüße",
    "bien à vous",
    "cheers",
    "cordialement",
    "freundliche grüße",
    "grüße",
    "kind regards",
    "kindest regards",
    "many thanks",
    "merci",
    "mit freundlichen grüßen",
    "regards",
    "respectfully",
    "saludos",
    "sincerely",
    "thank you",
    "thank you in advance",
    "thanks",
    "thanks a lot",
    "thanks again",
    "thanks and regards",
    "thanks in advance",
    "thx",
    "un saludo",
    "viele grüße",
    "warm regards",
    "warmly",
    "yours sincerely",
    "yours truly",
];

/// What a legal notice says of itself, as written ("Confidential",
/// "CONFIDENTIALITY", "confidentiel", "Vertraulich").
static CONFIDENTIAL: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 3]> =
    std::sync::LazyLock::new(|| {
        ["onfidenti", "ONFIDENTI", "ertraulich"].map(memchr::memmem::Finder::new)
    });

/// The most lines a signature runs to after its closing (name, title,
/// company, phone, address, web).
const SIGNATURE_LINES: usize = 8;

/// What [`own_words`] left unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unread {
    /// Bytes of the body not read.
    pub bytes: usize,
    /// Quoted lines or earlier messages below a reply header.
    pub quoted: bool,
    /// The sender's signature.
    pub signature: bool,
    /// A legal notice ("This email and any attachments are confidential
    /// … intended recipient …").
    pub notice: bool,
}

/// Where the customer's own text ends, and why.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Thread,
    Signature,
    Notice,
}

/// `body` without what is not the customer's message: lines opening with
/// ">", everything from a reply header on, the signature (after "-- ", a
/// "Sent from my …" line, or a closing — "Best regards," — followed by at
/// most [`SIGNATURE_LINES`] lines and no "P.S."), and a legal notice (a
/// paragraph saying the mail is confidential and what a reader it was not
/// meant for is to do). The body as it is when none of these is found after some
/// words of the customer's own, or when `subject` or the body says it is a
/// forward. Also what was left unread (none when the body is read whole).
pub fn own_words<'b>(subject: &str, body: &'b str) -> (Cow<'b, str>, Option<Unread>) {
    let whole = (Cow::Borrowed(body), None);
    // Its lines with their "\n" (as `split_inclusive`, by a vector search).
    let mut lines: Vec<&str> = Vec::with_capacity(16);
    let mut from = 0;
    for nl in memchr::memchr_iter(b'\n', body.as_bytes()) {
        // (After a "\n" is a character boundary.)
        lines.push(&body[from..=nl]);
        from = nl + 1;
    }
    if from < body.len() {
        lines.push(&body[from..]);
    }
    // Each line trimmed once: what the tests below read.
    let trimmed: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
    // (`k` is below `trimmed.len()`: the loop's index, or below `cut`,
    // which is at most the number of lines.)
    let quoted = |k: usize| trimmed[k].starts_with('>');
    // (Letters or digits: bytes first, characters only past ASCII.)
    let text = |l: &str| {
        l.bytes().any(|b| b.is_ascii_alphanumeric())
            || (!l.is_ascii() && l.chars().any(char::is_alphanumeric))
    };
    // A notice says it is confidential: one vector search of the body
    // spares the paragraphs of most.
    let notices = CONFIDENTIAL
        .iter()
        .any(|f| f.find(body.as_bytes()).is_some());
    let notice_at = |trimmed: &[&str], i: usize| notices && notice_at(trimmed, i);
    // The first line that ends the customer's own text (after some of it),
    // and what it opens.
    let mut own_before = false;
    let mut any_quoted = false;
    let mut end = None;
    for (i, &line) in trimmed.iter().enumerate() {
        if quoted(i) {
            any_quoted = true;
            continue;
        }
        if header_at(&trimmed, i) {
            end = Some((i, End::Thread));
            break;
        }
        if own_before {
            if signature_opens(line) {
                end = Some((i, End::Signature));
                break;
            }
            if notice_at(&trimmed, i) {
                end = Some((i, End::Notice));
                break;
            }
            if closing(line) && signature_follows(&trimmed[i + 1..], notice_at) {
                // The closing is read (a sign-off, not praise: the
                // sentiment scorer knows it); what follows it is not.
                end = Some((i + 1, End::Signature));
                break;
            }
        }
        own_before = own_before || text(line);
    }
    // Nothing to leave out, or nothing of the customer's own before it.
    if (end.is_none() && !any_quoted) || !own_before || forwarded(subject, &trimmed) {
        return whole;
    }
    let cut = end.map_or(lines.len(), |e| e.0);
    // (`cut` is at most `lines.len()`: an index of the loop, or one past
    // it for a closing, which the loop reads only below the last line.)
    let own = || (0..cut).filter(|&k| !quoted(k)).map(|k| lines[k]);
    let kept: usize = own().map(str::len).sum();
    if kept == body.len() {
        // (A closing on the last line: nothing after it.)
        return whole;
    }
    let prefix: usize = lines[..cut].iter().map(|l| l.len()).sum();
    let rest = &trimmed[cut..];
    let unread = Some(Unread {
        bytes: body.len() - kept,
        quoted: kept < prefix || end.is_some_and(|e| e.1 == End::Thread),
        signature: end.is_some_and(|e| e.1 == End::Signature),
        notice: (0..rest.len()).any(|i| notice_at(rest, i)),
    });
    // Nothing quoted above the end: the body's first part, as it is.
    if kept == prefix {
        return (Cow::Borrowed(&body[..prefix]), unread);
    }
    (Cow::Owned(own().collect()), unread)
}

/// `l` (a trimmed line) opens a signature: the "-- " delimiter (or "__"), or a
/// mobile client's "Sent from my iPhone", "Get Outlook for Android".
fn signature_opens(l: &str) -> bool {
    if matches!(l, "--" | "__") {
        return true;
    }
    let b = l.as_bytes();
    let starts = |p: &str| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    starts("sent from my ")
        || starts("sent from outlook")
        || starts("get outlook for ")
        || starts("von meinem ")
        || starts("envoyé de mon ")
        || starts("enviado desde mi ")
}

/// `l` (a trimmed line) is a closing alone ("Best regards,", "Thanks!") or with the
/// sender's name after a comma ("Best, Jane", "Thanks, John Smith"; not
/// "Thanks, all good now").
fn closing(l: &str) -> bool {
    // Short lines only: a closing is a few words.
    if l.is_empty() || l.len() > 48 {
        return false;
    }
    let known = |w: &str| {
        let w = w.trim_end_matches(['.', ',', '!', ' ']);
        // Lower-cased on the stack when ASCII (most closings).
        let mut buf = [0u8; 48];
        match buf.get_mut(..w.len()).filter(|_| w.is_ascii()) {
            Some(lower) => {
                lower.copy_from_slice(w.as_bytes());
                lower.make_ascii_lowercase();
                let lower = std::str::from_utf8(lower).unwrap_or_default();
                CLOSINGS.binary_search(&lower).is_ok()
            }
            None => CLOSINGS.binary_search(&w.to_lowercase().as_str()).is_ok(),
        }
    };
    if known(l) {
        return true;
    }
    // "Best, Jane": a closing, a comma, up to three capitalised words.
    let words = l.trim_end_matches(['.', ',', '!', ' ']);
    words.split_once(", ").is_some_and(|(c, name)| {
        let n = name.split_whitespace().count();
        known(c)
            && (1..=3).contains(&n)
            && name
                .split_whitespace()
                .all(|w| w.chars().next().is_some_and(char::is_uppercase))
    })
}

/// The lines after a closing are a signature: at most
/// [`SIGNATURE_LINES`] of them with text, up to a legal notice, and no
/// "P.S." (a postscript is the customer's).
fn signature_follows(after: &[&str], notice_at: impl Fn(&[&str], usize) -> bool) -> bool {
    let mut n = 0;
    for i in 0..after.len() {
        if notice_at(after, i) {
            break;
        }
        // (`i` below `after.len()`: the loop's.)
        let l = after[i];
        if l.is_empty() {
            continue;
        }
        let b = l.as_bytes();
        let ps = b.len() >= 2 && (b[..2].eq_ignore_ascii_case(b"ps") || l.starts_with("P.S"));
        n += 1;
        if ps || n > SIGNATURE_LINES {
            return false;
        }
    }
    true
}

/// Line `i` of `lines` (trimmed) opens a paragraph (the first line, or after a blank
/// one) that is a legal notice: it says the mail is confidential and what
/// a reader it was not meant for is to do ("This email and any attachments
/// are confidential … If you are not the intended recipient …", "… please
/// notify the sender"; German and French alike), not "the invoice did not
/// reach the intended recipient".
fn notice_at(lines: &[&str], i: usize) -> bool {
    if i > 0 && !lines[i - 1].is_empty() {
        return false;
    }
    let para = || lines[i..].iter().take_while(|l| !l.is_empty());
    // Most paragraphs say nothing of confidentiality: found by a vector
    // search before the paragraph is lower-cased.
    if !para().any(|l| CONFIDENTIAL.iter().any(|f| f.find(l.as_bytes()).is_some())) {
        return false;
    }
    let para: String = para()
        .flat_map(|l| l.chars().flat_map(char::to_lowercase))
        .collect();
    let has = |w: &str| para.contains(w);
    // What a notice tells a reader it was not meant for to do.
    (has("confidential")
        && (has("if you are not the intended recipient")
            || has("if you have received this")
            || has("notify the sender")))
        || (has("vertraulich")
            && (has("nicht der richtige adressat") || has("irrtümlich erhalten")))
        || (has("confidentiel") && (has("si vous n'êtes pas") || has("si vous avez reçu")))
}

/// The subject or a line of the body (`lines`, trimmed) says the message
/// is a forward.
fn forwarded(subject: &str, lines: &[&str]) -> bool {
    let s = subject.trim_start();
    let fw = FORWARD_SUBJECTS.iter().any(|p| {
        s.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    });
    fw || lines.iter().any(|l| {
        let l = l.trim_start_matches(['-', ' ']);
        FORWARD_MARKERS.iter().any(|m| {
            l.get(..m.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(m))
        })
    })
}

/// Line `i` of `lines` (trimmed) opens the quoted history: "On … wrote:" (the
/// closing word on this line or the next: clients wrap long headers), a
/// dashed "Original Message" line, or Outlook's "From:" with "Sent:",
/// "Date:" or "To:" within the next three lines.
fn header_at(lines: &[&str], i: usize) -> bool {
    // (Callers pass an index of `lines`.)
    let line = lines[i];
    let next = lines.get(i + 1).copied().unwrap_or("");
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
            .any(|l| OUTLOOK_NEXT.iter().any(|n| l.starts_with(n)));
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
            assert_eq!(
                unread,
                Some(Unread {
                    bytes: body.len() - mine.len(),
                    quoted: true,
                    ..Unread::default()
                })
            );
        }
        // Quoted lines between the customer's own are left out.
        assert_eq!(
            own("> Is production still down?\nNo, it works now.\n> Anything else?\nNo, thanks!"),
            "No, it works now.\nNo, thanks!"
        );
    }

    #[test]
    fn the_signature_and_a_legal_notice_are_not_the_message() {
        fn own_of(body: &str) -> (Cow<'_, str>, Option<Unread>) {
            own_words("Invoice", body)
        }
        // After a closing (alone, or with the sender's name), a signature
        // delimiter or a mobile client's line.
        for (body, mine) in [
            (
                "Can you add two seats?\n\nThanks,\nJohn Smith\nHead of Critical Infrastructure | Acme Security Ltd.\n",
                "Can you add two seats?\n\nThanks,\n",
            ),
            (
                "Can you add two seats?\nBest, Jane Doe\nIT Security Manager\n",
                "Can you add two seats?\nBest, Jane Doe\n",
            ),
            (
                "Can you add two seats?\n-- \nJane Doe | Security Lead\n",
                "Can you add two seats?\n",
            ),
            (
                "Can you add two seats?\n\nSent from my iPhone\n",
                "Can you add two seats?\n\n",
            ),
            (
                "Vielen Dank!\n\nMit freundlichen Grüßen\nJana Schmidt\nLeiterin Kritische Infrastruktur\n",
                "Vielen Dank!\n\nMit freundlichen Grüßen\n",
            ),
        ] {
            let (read, unread) = own_of(body);
            assert_eq!(read, mine, "{body:?}");
            assert!(unread.is_some_and(|u| u.signature && !u.quoted), "{body:?}");
        }
        // A confidentiality notice, after the signature or alone.
        let notice = "CONFIDENTIALITY NOTICE: This email and any attachments are confidential. If you are not the intended recipient, any unauthorized use is prohibited; we accept no liability for any data breach.\n";
        let body =
            format!("Please send me last month's invoice.\n\nBest regards\nJane\n\n{notice}");
        let (read, unread) = own_of(&body);
        assert_eq!(
            read,
            "Please send me last month's invoice.\n\nBest regards\n"
        );
        assert!(unread.is_some_and(|u| u.signature && u.notice));
        let body = format!("Please send me last month's invoice.\n\n{notice}");
        let (read, unread) = own_of(&body);
        assert_eq!(read, "Please send me last month's invoice.\n\n");
        assert!(unread.is_some_and(|u| u.notice && !u.signature));
        // Not a closing: thanks that run on, a postscript after the
        // closing, a long tail, the customer's own words about a
        // recipient, a closing with nothing before it.
        for body in [
            "Thanks, all good now.\nCould you send the report?\n",
            "The export fails.\n\nThanks,\nJane\n\nPS: the invoice is wrong too.\n",
            "The export fails.\nThanks\n1\n2\n3\n4\n5\n6\n7\n8\n9\n",
            "The invoice is confidential and did not reach the intended recipient.\n\nThe intended recipient is our CFO, it is confidential.\n",
            "Thanks!\nThe export fails since Monday.\n",
            "The export fails since Monday.\nThanks!\n",
        ] {
            let (read, unread) = own_of(body);
            assert_eq!(read, body);
            assert_eq!(unread, None, "{body:?}");
        }
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
