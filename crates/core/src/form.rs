//! The sender's details a web form writes into a body: "Name: Jane Doe",
//! "Company: Acme Security Ltd", "Job title: Head of Critical
//! Infrastructure", "Phone: …". Contact forms and their mail plugins send the
//! form's fields as lines of the body, the message among them; who the sender
//! is says nothing of what they ask ("Security" in a company's name is no
//! security incident, "Critical" in a job title no critical severity).
//!
//! A line is a detail when it is a field of [`DETAILS`] — its name, a ":"
//! and a value — and the body has at least two of them (one "Name: …" line in
//! prose is left as written). Such lines are blanked, the text keeping its
//! length, as links are; so are the names of the form's other fields
//! ("Message:", "Your question:"), whose values are the request's own and
//! are read ("Title: Export fails" reads "Export fails").

use std::borrow::Cow;

/// Field names of the sender's details (lower case, sorted).
const DETAILS: [&str; 30] = [
    "address",
    "business",
    "city",
    "company",
    "company name",
    "country",
    "department",
    "e-mail",
    "email",
    "email address",
    "first name",
    "full name",
    "job title",
    "last name",
    "mobile",
    "name",
    "organisation",
    "organization",
    "phone",
    "phone number",
    "position",
    "postal code",
    "postcode",
    "role",
    "state",
    "telephone",
    "website",
    "your email",
    "your name",
    "zip",
];

/// `text` with the sender's details of a form blanked (see the module), and
/// how many lines were.
pub fn masked(text: Cow<'_, str>) -> (Cow<'_, str>, usize) {
    if !crate::chat::two_labelled(text.as_bytes()) {
        return (text, 0);
    }
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // The other fields' names ("Message:", "Your question:"): furniture
    // of the form, blanked when it is one.
    let mut names: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if detail(line) {
            let body = line.trim_end_matches(['\n', '\r']);
            spans.push((at, at + body.len()));
        } else if let Some(end) = field_name(line) {
            names.push((at, at + end));
        }
        at += line.len();
    }
    if spans.len() < 2 {
        return (text, 0);
    }
    let n = spans.len();
    spans.extend(names);
    (crate::text::blanked(text, &spans), n)
}

/// Where a field's name and its ":" end in `line` ("Message:", "Your
/// question: …"): one to three words of letters, at most 24 bytes, then ":"
/// and white space or the line's end.
fn field_name(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let colon = b.iter().take(25).position(|&c| c == b':')?;
    // (`colon < b.len()`: a position in `b`.)
    let name = &line[..colon];
    let words = name.split_whitespace().count();
    let after_ok = b.get(colon + 1).is_none_or(|c| c.is_ascii_whitespace());
    ((1..=3).contains(&words)
        && after_ok
        && name
            .trim_start()
            .starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphabetic() || c == b' ' || c == b'\t'))
    .then_some(colon + 1)
}

/// `line` is a field of the sender's details: a name of [`DETAILS`]
/// (after white space), ":", then a value on the same line.
fn detail(line: &str) -> bool {
    let l = line.trim_start();
    let Some(colon) = l.as_bytes().iter().take(16).position(|&b| b == b':') else {
        return false;
    };
    // (`colon` is a byte ':' found in the line: a char boundary.)
    let name = l[..colon].trim_end();
    let value = l[colon + 1..].trim();
    !value.is_empty()
        && name.len() <= 13
        && DETAILS
            .binary_search_by(|d| cmp_ignore_case(d, name))
            .is_ok()
}

/// `d` (lower case) against `name`, ASCII case ignored.
fn cmp_ignore_case(d: &str, name: &str) -> std::cmp::Ordering {
    d.bytes().cmp(name.bytes().map(|b| b.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_sorted() {
        assert!(DETAILS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_sender_s_details_are_blanked_the_message_read() {
        let body = "Name: Jane Doe\nCompany: Acme Security Ltd\nJob title: Head of Critical Infrastructure\n\
            Email: jane@acme.example\n\nMessage:\nCan you add two more seats to our plan?";
        let (m, n) = masked(Cow::Borrowed(body));
        assert_eq!(n, 4);
        assert_eq!(m.len(), body.len());
        assert!(!m.contains("Security") && !m.contains("Critical") && !m.contains("Jane"));
        assert!(m.contains("        \nCan you add two more seats to our plan?"));
        // CRLF lines keep their line ends.
        let body = "Name: Jane\r\nCompany: Acme\r\nTitle: Export fails\r\n";
        let (m, n) = masked(Cow::Borrowed(body));
        assert_eq!(n, 2);
        assert_eq!(m.matches("\r\n").count(), 3);
        assert!(m.contains("       Export fails") && !m.contains("Title"));
    }

    #[test]
    fn one_field_or_prose_is_read_as_written() {
        for body in [
            "Name: Jane Doe\nThe export fails with an error.",
            "The company: our whole company is down since 9:00.\nRole: admin",
            "Title: Production down\nSubject: all users affected",
            "Name:\nCompany:\n",
            "",
        ] {
            let (m, n) = masked(Cow::Borrowed(body));
            assert_eq!((&*m, n), (body, 0), "{body}");
        }
    }

    #[test]
    fn hostile_bodies_stay_linear() {
        for unit in ["Name: x\n", "é: é\n", "name:", "Company: \u{2019}\r\n"] {
            let body = unit.repeat(50_000);
            let (m, _) = masked(Cow::Borrowed(&body));
            assert_eq!(m.len(), body.len());
        }
    }
}
