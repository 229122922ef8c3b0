//! The customer's lines of a chat transcript. Chat and messaging tools hand
//! a conversation over as one body of speaker lines — "(10:15:02 AM) Jane
//! Doe: the export fails", "[10:15] Support Bot: I'm sorry to hear about the
//! outage! Is production down for all users?", "Agent: …", "Visitor: …" —
//! with the bot's and the agent's words in it: their apologies, their
//! questions ("is anything down?"), their "Have a great day!". Read as the
//! customer's, they decide a category, a severity and a sentiment the
//! customer did not state.
//!
//! A line is a speaker's when it opens with an optional time ("(10:15 AM)",
//! "[2026-11-24 10:15:02]", "10:15 -", Salesforce's "( 5s )") and a short
//! label before ": ". Who the customer is: a label naming the requester
//! (`requester.name`, or its first name), or a customer's role ("Visitor",
//! "Customer", "User", "Guest", "Client", "Caller"); the other side by its
//! role ("Agent", "Bot", "Support", "Assistant", "Operator", "System", …).
//! When one side is known the other labels are the other side's ("Jane" and
//! "Tom (Acme)" with requester Jane: Tom is the agent). A transcript has both
//! sides and at least three turns (two when the ticket's channel is `chat`
//! or `phone`); anything else — "Expected: …", "Actual: …" in a bug report,
//! a form's "Name: …" fields — is read as written. Lines with no label go
//! with the speaker before them; lines before the first speaker (a note the
//! customer put above a pasted chat) are the customer's; a system line
//! ("Chat started: …", "*** Tom joined the chat ***") is nobody's.

/// What [`customer_lines`] left unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unread {
    /// Bytes of the body not read (the other side's lines, system lines,
    /// the labels and times).
    pub bytes: usize,
    /// Lines of the other side (agents, bots).
    pub lines: usize,
}

/// Most distinct speakers of a transcript: more labels are a document of
/// fields, not a conversation.
const MAX_SPEAKERS: usize = 8;

/// Longest speaker label, in bytes ("Customer Support Assistant (Acme)").
const MAX_LABEL: usize = 40;

/// Words of a label that name the support side (lower case, sorted).
const STAFF: [&str; 18] = [
    "advisor",
    "agent",
    "assistant",
    "automated",
    "bot",
    "chatbot",
    "concierge",
    "helpdesk",
    "moderator",
    "operator",
    "rep",
    "representative",
    "specialist",
    "staff",
    "support",
    "system",
    "team",
    "virtual",
];

/// Words of a label that name the customer (lower case, sorted).
const CUSTOMER: [&str; 7] = [
    "caller",
    "client",
    "customer",
    "guest",
    "requester",
    "user",
    "visitor",
];

/// Labels that are fields of a form or a report, never speakers (lower
/// case, sorted): "Error: connection refused" is a line of what the customer
/// pasted.
const FIELDS: [&str; 24] = [
    "actual",
    "browser",
    "cc",
    "date",
    "description",
    "details",
    "email",
    "error",
    "exception",
    "expected",
    "from",
    "id",
    "message",
    "note",
    "p.s",
    "ps",
    "re",
    "result",
    "sent",
    "steps",
    "subject",
    "to",
    "version",
    "warning",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Customer,
    Staff,
    Unknown,
}

/// One line of the body.
#[derive(Clone, Copy)]
enum Line<'b> {
    /// A speaker's (an index of the speakers) and what they said.
    Said(usize, &'b str),
    /// A line with no label: the speaker's before it.
    More,
    /// "Chat started: …", "*** Tom joined the chat ***".
    System,
}

/// The customer's lines of `body` when it is a chat transcript (see the
/// module), joined by "\n", and what was left unread; `None` when it is not
/// one. `requester` is the ticket's `requester.name`; `conversational` says
/// the ticket came by chat or phone, where two turns make a transcript.
pub fn customer_lines(
    body: &str,
    requester: Option<&str>,
    conversational: bool,
) -> Option<(String, Unread)> {
    // Most bodies have no two lines with a ": " near their start (a time
    // and a label): one vector search says so.
    if !two_labelled(body.as_bytes()) {
        return None;
    }
    let mut labels: Vec<&str> = Vec::new();
    let mut lines: Vec<(&str, Line)> = Vec::new();
    // Whether the speakers' lines carry a time: the first one says, and a
    // labelled line unlike it is a line of text ("Error: …" below a timed
    // line is what the speaker pasted).
    let mut timed: Option<bool> = None;
    // Who the chat tool says joined after it started: the agents ("*** Sam
    // joined the chat ***").
    let mut joined: Vec<&str> = Vec::new();
    for line in body.split_inclusive('\n') {
        let t = line.trim();
        let (rest, time) = time_prefix(t);
        let kind = if system(rest) {
            if let Some(name) = joiner(rest).filter(|_| joined.len() < MAX_SPEAKERS) {
                joined.push(name);
            }
            Line::System
        } else {
            match label(rest).filter(|_| timed.is_none_or(|x| x == time)) {
                Some((l, said)) => {
                    timed = Some(time);
                    let i = match labels.iter().position(|k| k.eq_ignore_ascii_case(l)) {
                        Some(i) => i,
                        None => {
                            if labels.len() == MAX_SPEAKERS {
                                return None;
                            }
                            labels.push(l);
                            labels.len() - 1
                        }
                    };
                    Line::Said(i, said)
                }
                None => Line::More,
            }
        };
        lines.push((line, kind));
    }
    let roles = roles(&labels, requester, &joined)?;
    // Turns: runs of one side's lines.
    let mut turns = 0usize;
    let mut side = None;
    for (_, l) in &lines {
        if let Line::Said(i, _) = l {
            // (`i` indexes `labels`, and `roles` has one role per label.)
            let r = roles[*i];
            if side != Some(r) {
                turns += 1;
                side = Some(r);
            }
        }
    }
    let said_by = |r: Role| {
        lines
            .iter()
            .any(|(_, l)| matches!(l, Line::Said(i, _) if roles[*i] == r))
    };
    if turns < if conversational { 2 } else { 3 }
        || !said_by(Role::Customer)
        || !said_by(Role::Staff)
    {
        return None;
    }
    let mut own = String::with_capacity(body.len());
    let mut other = 0usize;
    // The speaker of the lines so far: the customer's before the first.
    let mut customer = true;
    for (line, l) in lines {
        let text = match l {
            Line::Said(i, said) => {
                // (`i` indexes `labels`; `roles` has one role per label.)
                customer = roles[i] == Role::Customer;
                other += usize::from(!customer);
                said
            }
            Line::More => line.trim_end(),
            Line::System => continue,
        };
        if customer {
            own.push_str(text);
            own.push('\n');
        }
    }
    let bytes = body.len().saturating_sub(own.len());
    Some((
        own,
        Unread {
            bytes,
            lines: other,
        },
    ))
}

/// At least two lines of `b` have a ": " within the first bytes a time and
/// a label take.
pub(crate) fn two_labelled(b: &[u8]) -> bool {
    static COLON: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b": "));
    let mut found = 0;
    // The line of the last one counted: one per line.
    let mut line_end = 0;
    for at in COLON.find_iter(b) {
        if at < line_end {
            continue;
        }
        // (`at < b.len()`: where the searcher found ": ".)
        let start = memchr::memrchr(b'\n', &b[..at]).map_or(0, |n| n + 1);
        if at - start <= MAX_LABEL + 40 {
            found += 1;
            if found == 2 {
                return true;
            }
            line_end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |n| at + n);
        }
    }
    false
}

/// Each label's side, or `None` when neither side is known. A speaker the
/// chat tool says joined is the support side, unless named as the customer.
fn roles(labels: &[&str], requester: Option<&str>, joined: &[&str]) -> Option<Vec<Role>> {
    let requester = requester.map(str::trim).filter(|r| !r.is_empty());
    let mut roles: Vec<Role> = labels
        .iter()
        .map(|l| match role(l, requester) {
            Role::Unknown if joined.iter().any(|j| j.eq_ignore_ascii_case(l)) => Role::Staff,
            r => r,
        })
        .collect();
    let other = if roles.contains(&Role::Customer) {
        Role::Staff
    } else if roles.contains(&Role::Staff) {
        Role::Customer
    } else {
        return None;
    };
    for r in &mut roles {
        if *r == Role::Unknown {
            *r = other;
        }
    }
    Some(roles)
}

/// The side a label names: the requester's name (whole, its first name, or
/// followed by more: "Jane Doe (jane@example.com)"), a role word.
fn role(label: &str, requester: Option<&str>) -> Role {
    if let Some(name) = requester {
        let first = name.split_whitespace().next().unwrap_or(name);
        let is = |n: &str| {
            label.len() >= n.len()
                && label.is_char_boundary(n.len())
                && label[..n.len()].eq_ignore_ascii_case(n)
                && label[n.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == ' ' || c == '(')
        };
        if is(name) || (first.chars().count() >= 2 && is(first)) {
            return Role::Customer;
        }
    }
    let mut found = Role::Unknown;
    for w in label.split(|c: char| !c.is_alphanumeric()) {
        if w.is_empty() || w.len() > 16 {
            continue;
        }
        let w = w.to_ascii_lowercase();
        if STAFF.binary_search(&w.as_str()).is_ok() {
            // Both ("Customer Support"): the support side.
            return Role::Staff;
        }
        if CUSTOMER.binary_search(&w.as_str()).is_ok() {
            found = Role::Customer;
        }
    }
    found
}

/// A speaker's label and what they said, from a line without its time:
/// "Jane Doe: the export fails", "Support Bot (10:15): Hi"; the label at
/// most [`MAX_LABEL`] bytes and five words, opening with a letter, of
/// letters, digits, spaces and `.-'_()&@`, and no field name of [`FIELDS`];
/// ": " or the line's end after the colon (not "https://", "10:15").
fn label(line: &str) -> Option<(&str, &str)> {
    // The first ':' with white space or the line's end after it ("Jane
    // (10:15): hi" has one in its time).
    let b = line.as_bytes();
    let colon = memchr::memchr_iter(b':', &b[..b.len().min(MAX_LABEL + 24)])
        .find(|&c| b.get(c + 1).is_none_or(|n| matches!(n, b' ' | b'\t')))?;
    // (`colon` is a byte ':' found in the line: a char boundary.)
    let (l, said) = (&line[..colon], &line[colon + 1..]);
    let l = time_suffix(l.trim_end());
    if l.is_empty() || l.len() > MAX_LABEL || l.split_whitespace().count() > 5 {
        return None;
    }
    if !l.chars().next().is_some_and(char::is_alphabetic)
        || !l
            .chars()
            .all(|c| c.is_alphanumeric() || " .-'_()&@\u{2019}".contains(c))
    {
        return None;
    }
    if l.len() <= 11 && FIELDS.iter().any(|f| f.eq_ignore_ascii_case(l)) {
        return None;
    }
    Some((l, said.trim()))
}

/// A line without the time it opens with ("(10:15:02 AM)", "[10:15]",
/// "[2026-11-24 10:15:02 UTC]", "( 5s )", "10:15 AM -", "2026-11-24
/// 10:15:02"), and whether it had one.
fn time_prefix(line: &str) -> (&str, bool) {
    let b = line.as_bytes();
    let rest = match b.first() {
        Some(b'(' | b'[') => {
            let close = if b[0] == b'(' { b')' } else { b']' };
            // (`b[0]` read under `first()`: the line is not empty.)
            match memchr::memchr(close, &b[..b.len().min(40)]) {
                Some(e) if time_like(&line[1..e]) => &line[e + 1..],
                _ => return (line, false),
            }
        }
        Some(c) if c.is_ascii_digit() => {
            // Digits and separators, a "T" or one space between a date and
            // a time, then "AM"/"PM".
            let mut end = 0;
            let mut spaces = 0;
            while let Some(&c) = b.get(end).filter(|_| end < 32) {
                let between = |end: usize| {
                    end > 0
                        && b[end - 1].is_ascii_digit()
                        && b.get(end + 1).is_some_and(u8::is_ascii_digit)
                };
                // (`b[end - 1]` read when `end > 0`.)
                let ok = c.is_ascii_digit()
                    || b":./-".contains(&c)
                    || (c == b'T' && between(end))
                    || (c == b' ' && spaces == 0 && between(end));
                if !ok {
                    break;
                }
                spaces += usize::from(c == b' ');
                end += 1;
            }
            // (`end <= b.len()`, after ASCII bytes: a char boundary.)
            let after = &line[end..];
            let spaced = after.trim_start_matches(' ');
            // "AM"/"PM" as a word ("10:15 Amy: hi" has none).
            let after = match spaced.get(..2).map(str::to_ascii_uppercase).as_deref() {
                Some("AM" | "PM") if !spaced[2..].starts_with(char::is_alphanumeric) => {
                    &spaced[2..]
                }
                _ => after,
            };
            let head = &line[..end];
            if !head.contains(':') || !time_like(head) || !after.starts_with([' ', '\t']) {
                return (line, false);
            }
            after
        }
        _ => return (line, false),
    };
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix(['-', '|', '\u{2013}'])
        .map_or(rest, str::trim_start);
    (rest, true)
}

/// A time or a date (inside brackets): digits, with ":" or a unit ("5s",
/// "1m 20s"), of digits, separators and the letters of "AM", "PM", "UTC",
/// "GMT", "Z", "T", "h", "m", "s".
fn time_like(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && s.len() <= 32
        && s.bytes().any(|c| c.is_ascii_digit())
        && s.bytes().all(|c| {
            c.is_ascii_digit() || b":./-+, ".contains(&c) || b"apmsutcgzhAPMSUTCGZH".contains(&c)
        })
        && (s.contains(':') || s.bytes().any(|c| matches!(c, b's' | b'm' | b'h')))
}

/// A label without a bracketed time after the name ("Jane (10:15 AM)").
fn time_suffix(l: &str) -> &str {
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(inner) = l.strip_suffix(close) {
            if let Some(at) = inner.rfind(open) {
                // (`at` is where `rfind` found an ASCII bracket.)
                if time_like(&inner[at + 1..]) {
                    return l[..at].trim_end();
                }
            }
        }
    }
    l
}

/// The name in a system line saying someone joined ("*** Sam joined the
/// chat ***", "Sam Lee has joined the conversation."): one to three words.
fn joiner(line: &str) -> Option<&str> {
    let l = line.trim_matches(['*', ' ', '.', '!']);
    let lower_end = |s: &str, suffix: &str| {
        s.len() >= suffix.len()
            && s.is_char_boundary(s.len() - suffix.len())
            // (Under the length and boundary tests just made.)
            && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    let rest = ["joined the chat", "joined the conversation"]
        .iter()
        .find(|s| lower_end(l, s))
        // (`lower_end` checked the length and the char boundary.)
        .map(|s| l[..l.len() - s.len()].trim_end())?;
    let name = rest
        .strip_suffix(" has")
        .or_else(|| rest.strip_suffix(" Has"))
        .unwrap_or(rest)
        .trim();
    (!name.is_empty() && name.split_whitespace().count() <= 3).then_some(name)
}

/// A line of the chat tool's own: "Chat started: …", "Chat ended",
/// "*** Tom joined the chat ***", "Tom has left the conversation", "Chat
/// transferred to …".
fn system(line: &str) -> bool {
    if line.starts_with("***") {
        return true;
    }
    const OPENS: [&str; 8] = [
        "chat started",
        "chat ended",
        "chat transcript",
        "chat origin",
        "chat transferred",
        "conversation started",
        "conversation ended",
        "conversation transcript",
    ];
    const SAYS: [&str; 6] = [
        "joined the chat",
        "left the chat",
        "joined the conversation",
        "left the conversation",
        "ended the chat",
        "transferred the chat",
    ];
    let b = line.as_bytes();
    let end = line.trim_end_matches(['.', '!', '*', ' ']).as_bytes();
    OPENS.iter().any(|o| {
        b.get(..o.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(o.as_bytes()))
    }) || SAYS.iter().any(|s| {
        // (Bytes, read under the length test.)
        end.len() >= s.len() && end[end.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(body: &str, requester: Option<&str>) -> Option<String> {
        customer_lines(body, requester, false).map(|(o, _)| o)
    }

    #[test]
    fn sorted_word_lists() {
        for list in [&STAFF[..], &CUSTOMER[..], &FIELDS[..]] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
    }

    #[test]
    fn a_bot_and_an_agent_are_not_the_customer() {
        let body = "Chat started: 2026-11-24 10:15 AM UTC\n\
            (10:15:02 AM) Support Bot: Hi there! I'm sorry to hear about any trouble. Is production down for all users?\n\
            (10:15:40 AM) Visitor: no, I just need a copy of last month's invoice\n\
            (10:16:05 AM) *** Tom joined the chat ***\n\
            (10:16:10 AM) Tom: Happy to help! Which account is it for?\n\
            (10:16:30 AM) Visitor: acme-prod\n\
            it's for our finance team\n\
            (10:17:00 AM) Tom: Sent! Have a great day!\n";
        let (o, u) = customer_lines(body, None, false).expect("a transcript");
        assert_eq!(
            o,
            "no, I just need a copy of last month's invoice\nacme-prod\nit's for our finance team\n"
        );
        assert_eq!(u.lines, 3);
        assert_eq!(u.bytes, body.len() - o.len());
    }

    #[test]
    fn the_requester_names_the_customer_and_the_others_are_agents() {
        let body = "[10:15] Jane Doe: the export fails with an error\n\
            [10:16] Tom: Sorry about that! Is the whole team down?\n\
            [10:16] Jane Doe: only exports\n";
        assert_eq!(
            own(body, Some("Jane Doe")).as_deref(),
            Some("the export fails with an error\nonly exports\n")
        );
        // The first name alone, and a label with the address after it.
        let body = "Jane: it fails\nTom: which page?\nJane (jane@example.com): reports\n";
        assert_eq!(
            own(body, Some("Jane Doe")).as_deref(),
            Some("it fails\nreports\n")
        );
        // Without the requester, nobody's side is known: read as written.
        assert_eq!(own(body, None), None);
    }

    #[test]
    fn who_joined_the_chat_is_the_support_side() {
        // No requester, no role words: the chat tool's "joined" says it.
        let body = "(10:15:02 AM) Jane Doe: the export fails with an error\n\
            (10:15:30 AM) *** Sam joined the chat ***\n\
            (10:15:40 AM) Sam: So sorry about the outage! Is production down?\n\
            (10:16:00 AM) Jane Doe: only the export\n";
        assert_eq!(
            own(body, None).as_deref(),
            Some("the export fails with an error\nonly the export\n")
        );
        assert_eq!(
            joiner("Sam Lee has joined the conversation."),
            Some("Sam Lee")
        );
        assert_eq!(joiner("joined the chat"), None);
        assert_eq!(joiner("We all joined the chat"), Some("We all"));
        assert_eq!(joiner("the chat"), None);
    }

    #[test]
    fn salesforce_and_bare_times() {
        let body = "Chat Started: Monday, November 24, 2026, 10:15:02 (+0000)\n\
            ( 5s ) Agent Smith: Thank you for contacting us, how can I help?\n\
            ( 20s ) Customer: my card payment failed twice\n\
            ( 1m 2s ) Agent Smith: I'm sorry, let me check.\n";
        assert_eq!(
            own(body, None).as_deref(),
            Some("my card payment failed twice\n")
        );
        let body = "10:15 AM - Bot: Hello! What can I do for you?\n\
            10:15 AM - User: reset my password\n\
            10:16 AM - Bot: Great, I sent you a link!\n";
        assert_eq!(own(body, None).as_deref(), Some("reset my password\n"));
        let body = "2026-11-24 10:15:02 Operator: hi\n2026-11-24 10:15:09 Guest: sso is broken\n2026-11-24 10:15:30 Operator: ok\n";
        assert_eq!(own(body, None).as_deref(), Some("sso is broken\n"));
    }

    #[test]
    fn a_pasted_line_below_a_timed_speaker_is_text() {
        let body = "[10:15] Visitor: the sync fails with\n\
            Error: connection refused\n\
            Host: db-1\n\
            [10:16] Agent: Thanks, checking\n\
            [10:17] Visitor: ok\n";
        assert_eq!(
            own(body, None).as_deref(),
            Some("the sync fails with\nError: connection refused\nHost: db-1\nok\n")
        );
    }

    #[test]
    fn fields_reports_and_prose_are_read_as_written() {
        for body in [
            "Steps: open the report\nExpected: a chart\nActual: an error\nBrowser: Chrome\n",
            "Name: Jane\nEmail: jane@example.com\nMessage: the export fails\n",
            // One side only, or too few turns outside a chat.
            "Hi,\nOur support team: 3 people\nWe cannot log in since this morning.\nOur users: 400\n",
            "Agent: v2.3 of the monitoring agent\nIt crashes at start.\n",
            "The export fails: see https://example.com/x at 10:15 today.\n",
            "Note: this is urgent\nPS: thanks\n",
            "",
            "no colon at all",
        ] {
            assert_eq!(own(body, None), None, "{body}");
        }
        // Two turns make a transcript in a chat, not in a mail.
        let body = "Bot: How can I help?\nVisitor: my invoice is wrong\n";
        assert_eq!(own(body, None), None);
        assert_eq!(
            customer_lines(body, None, true).map(|o| o.0).as_deref(),
            Some("my invoice is wrong\n")
        );
    }

    #[test]
    fn a_note_above_a_pasted_chat_is_the_customer_s() {
        let body = "Still broken, see the chat below:\n\n\
            Customer: the app crashes on start\n\
            Support: Have you tried reinstalling? Everything is fine on our side!\n\
            Customer: yes, still crashes\n";
        assert_eq!(
            own(body, None).as_deref(),
            Some("Still broken, see the chat below:\n\nthe app crashes on start\nyes, still crashes\n")
        );
    }

    #[test]
    fn times_and_labels() {
        assert_eq!(time_prefix("(10:15:02 AM) Jane: x"), ("Jane: x", true));
        assert_eq!(
            time_prefix("[2026-11-24 10:15:02 UTC] Jane: x"),
            ("Jane: x", true)
        );
        assert_eq!(time_prefix("10:15 - Jane: x"), ("Jane: x", true));
        assert_eq!(time_prefix("10:15pm Jane: x"), ("Jane: x", true));
        assert_eq!(time_prefix("(bot) Jane: x"), ("(bot) Jane: x", false));
        assert_eq!(
            time_prefix("2026 was a good year"),
            ("2026 was a good year", false)
        );
        assert_eq!(time_prefix("(1) the export"), ("(1) the export", false));
        assert_eq!(label("Jane Doe (10:15 AM): hi"), Some(("Jane Doe", "hi")));
        assert_eq!(label("Operator (bot): hi"), Some(("Operator (bot)", "hi")));
        assert_eq!(label("https://example.com"), None);
        assert_eq!(label("It fails when I do this: open it"), None);
        assert_eq!(label("Error: boom"), None);
        assert!(system("*** Tom joined the chat ***"));
        assert!(system("Tom has left the conversation"));
        assert!(!system("Tom: I joined the chat late"));
    }

    #[test]
    fn hostile_bodies_stay_linear_and_panic_free() {
        for unit in [
            "(1:",
            "[",
            "(10:15 AM) a: ",
            "A: b\n",
            "Bot: x\nUser: y\n",
            "\u{e9}\u{e9}: \u{2019}\n",
            "10:15 \u{e9}",
            "( 5s )",
        ] {
            let body = unit.repeat(20_000);
            let _ = customer_lines(&body, Some("\u{e9}"), true);
            let _ = customer_lines(&body, Some(""), false);
        }
    }
}
