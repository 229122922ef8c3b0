//! An HTML body read as the text a mail client shows. Intake systems that
//! take tickets by email often pass the HTML part on: markup, styles, the
//! thread quoted in `<blockquote>`s, entities for apostrophes ("don&#39;t").
//! Read as text, the markup is words no customer wrote ("div", "margin",
//! "nbsp"), an entity splits a word ("don", "39", "t"), and the quoted
//! thread is read as the customer's message. Here the body is tokenized by
//! html5ever's tokenizer (the HTML standard's own algorithm, every named
//! character reference) and rendered as plain text:
//!
//! - what is not shown is not read: `<head>`'s title, `<style>`, `<script>`,
//!   `<template>`, comments, the doctype;
//! - blocks (`<p>`, `<div>`, `<li>`, `<tr>`, headings, …) and `<br>` break
//!   lines, a paragraph or heading leaves a blank line; spaces and line
//!   breaks in the source collapse to one space, as a browser shows them
//!   (`<pre>` keeps its own); table cells are apart by a space;
//! - each line of a `<blockquote>` opens with "> ", as a plain-text reply
//!   quotes: [`crate::reply::own_words`] leaves it unread, with the reply
//!   header before it (Gmail's "On … wrote:", Outlook's "From: … Sent: …",
//!   which are lines of text here);
//! - a block the mail client marked as the signature (Gmail's
//!   `gmail_signature`, Thunderbird's `moz-signature`, Outlook on the web's
//!   `id="Signature"`) opens with a line "--", the plain-text delimiter;
//! - a no-break space is a space; a zero-width space or joiner, and the
//!   replacement character (a NUL byte in raw text), nothing; an
//!   image's short `alt` of no letters or digits (the emoji a mail client
//!   sends as an image) is its text.
//!
//! [`is_html`] says whether a body is to be read so: plain text is read as
//! written ("x < 5", "<jane@example.com>", a pasted `<div>` in a sentence).
//! The text is at most twice the body's length (each quoted line's "> "
//! comes from a tag or a line break of at least one byte before it).

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// Elements a body opens with when it is an HTML document or fragment
/// (lower case; matched case-insensitively, followed by `>`, `/` or a
/// space).
const OPENING_TAGS: [&str; 22] = [
    "!doctype", "html", "head", "body", "meta", "style", "div", "p", "span", "table", "font",
    "center", "section", "article", "br", "b", "i", "a", "h1", "h2", "h3", "ul",
];

/// Line-breaking markup that makes a body HTML when it occurs twice
/// anywhere ("Hello,<br>the export fails.<br>Thanks"), lower case.
const BREAKS: [&[u8]; 3] = [b"br", b"/p", b"/div"];

/// Whether `body` is HTML to be read as text: it opens with an HTML
/// element (leading white space and a byte-order mark aside: `<html>`,
/// `<!DOCTYPE html>`, `<div dir="ltr">`, `<p>`, a comment), or line breaks
/// are marked up in it at least twice (`<br>`, `</p>`, `</div>`). Plain text
/// with a `<` in it ("x < 5", "Jane <jane@example.com> wrote:") is not.
pub fn is_html(body: &str) -> bool {
    let b = body.as_bytes();
    // Most bodies have no `<` at all: one vector search says so.
    let Some(first) = memchr::memchr(b'<', b) else {
        return false;
    };
    let lead = body[..first].trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if lead.is_empty() && opens_element(&b[first + 1..]) {
        return true;
    }
    let mut breaks = 0;
    // From the first "<" on (the search above found none before it).
    for at in memchr::memchr_iter(b'<', &b[first..]) {
        // `first + at` is a "<" of `b`: the slice after it is at most empty.
        let rest = &b[first + at + 1..];
        let marked = BREAKS.iter().any(|m| {
            rest.len() > m.len()
                && rest[..m.len()].eq_ignore_ascii_case(m)
                && matches!(rest[m.len()], b'>' | b'/' | b' ')
        });
        if marked {
            breaks += 1;
            if breaks == 2 {
                return true;
            }
        }
    }
    false
}

/// Whether `rest` (the bytes after a `<`) opens one of [`OPENING_TAGS`] or
/// a comment.
fn opens_element(rest: &[u8]) -> bool {
    rest.starts_with(b"!--")
        || OPENING_TAGS.iter().any(|t| {
            rest.len() > t.len()
                && rest[..t.len()].eq_ignore_ascii_case(t.as_bytes())
                && matches!(rest[t.len()], b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')
        })
}

/// Plain text with the character references an intake escaped it with
/// ("can&#39;t", "R&amp;D", "&quot;down&quot;", "&rsquo;"): decoded, so
/// that "can't" is read as the negation it is. A body escaped for HTML and
/// passed on as plain text (an intake that escaped twice) otherwise splits
/// words ("can", "39", "t"). Only a complete reference is decoded — a name of
/// the HTML standard's table with its ";", or "&#" and a number with its
/// ";" — so "AT&T", "Q&A" and "&nbsp" without ";" stay as written; `None`
/// when there is none.
pub fn references(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    // Where the text not yet copied starts.
    let mut from = 0;
    for amp in memchr::memchr_iter(b'&', b) {
        if amp < from {
            continue;
        }
        // (`amp` is where memchr found "&": a char boundary, as is the byte
        // after it and the ";" found below.)
        let rest = &b[amp + 1..];
        let Some(semi) = rest.iter().take(33).position(|&c| c == b';') else {
            continue;
        };
        let name = &text[amp + 1..amp + 1 + semi];
        let Some(decoded) = reference(name) else {
            continue;
        };
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[from..amp]);
        o.extend(decoded.into_iter().flatten());
        from = amp + 2 + semi;
    }
    let mut o = out?;
    o.push_str(&text[from..]);
    Some(o)
}

/// The characters a reference's name (between "&" and ";") stands for.
fn reference(name: &str) -> Option<[Option<char>; 2]> {
    if let Some(num) = name.strip_prefix('#') {
        let n = match num.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() && hex.len() <= 6 => u32::from_str_radix(hex, 16).ok()?,
            Some(_) => return None,
            None if !num.is_empty() && num.len() <= 7 => num.parse().ok()?,
            None => return None,
        };
        // No NUL, surrogate or control character comes of a reference.
        let c =
            char::from_u32(n).filter(|c| *c != '\0' && (!c.is_control() || c.is_whitespace()))?;
        return Some([Some(c), None]);
    }
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut key = [0u8; 33];
    // (`name` is at most 32 bytes: the ";" was looked for in 33.)
    let k = key.get_mut(..name.len() + 1)?;
    k[..name.len()].copy_from_slice(name.as_bytes());
    k[name.len()] = b';';
    let key = std::str::from_utf8(k).ok()?;
    let &(a, b) = html5ever::data::NAMED_ENTITIES.get(key)?;
    let c = |n: u32| char::from_u32(n).filter(|&c| c != '\0');
    Some([c(a), c(b)])
}

/// The text of the HTML `html` as a mail client shows it (see the module's
/// documentation).
pub fn text(html: &str) -> String {
    let sink = Sink(RefCell::new(Render {
        out: String::with_capacity(html.len() / 2),
        ..Render::default()
    }));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The sink never blocks on a script: one feed reads the whole input.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut out = tokenizer.sink.0.into_inner().out;
    out.truncate(out.trim_end().len());
    out
}

/// The text rendered so far and where the tokenizer is in the document.
#[derive(Default)]
struct Render {
    out: String,
    /// Inside elements whose content is not shown (`title`, `style`,
    /// `script`, `template`): how deep.
    hidden: u32,
    /// Inside `<blockquote>`: how deep (each line opens with one "> ").
    quoted: u32,
    /// Inside `<pre>`: how deep (white space kept).
    pre: u32,
    /// White space read since the last character written.
    space: bool,
    /// Nothing written on the current line yet.
    line_start: bool,
    /// Line breaks at the end of `out` (0, 1 or 2: never more than one
    /// blank line).
    breaks: u8,
}

impl Render {
    /// Ends the line, leaving at least `n` line breaks (1: a new line, 2: a
    /// blank line) at the end of the text; none at its start.
    fn break_lines(&mut self, n: u8) {
        if self.out.is_empty() {
            return;
        }
        while self.breaks < n {
            self.out.push('\n');
            self.breaks += 1;
        }
        self.line_start = true;
        self.space = false;
    }

    /// A `<br>`: a line break of its own ("a<br><br>b" leaves a blank
    /// line), at most one blank line in a row.
    fn hard_break(&mut self) {
        if !self.out.is_empty() && self.breaks < 2 {
            self.out.push('\n');
            self.breaks += 1;
        }
        self.line_start = true;
        self.space = false;
    }

    /// Writes one character of text.
    fn char(&mut self, c: char) {
        let white = matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}' | '\u{a0}');
        if self.pre > 0 && c == '\n' {
            self.hard_break();
            return;
        }
        if white && self.pre == 0 {
            self.space = true;
            return;
        }
        // Zero-width characters, and the replacement character (what the
        // tokenizer makes of a NUL byte in raw text: three bytes for one)
        // are no text.
        if matches!(
            c,
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{fffd}' | '\0'
        ) {
            return;
        }
        if self.line_start {
            if self.quoted > 0 {
                self.out.push_str("> ");
            }
        } else if self.space {
            self.out.push(' ');
        }
        self.out.push(if white { ' ' } else { c });
        self.line_start = false;
        self.space = false;
        self.breaks = 0;
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let start = tag.kind == TagKind::StartTag;
        let name: &str = &tag.name;
        if start && self.hidden == 0 && signature_block(tag) {
            // The mail client marked its signature: a line "--" before it,
            // the plain-text delimiter the reply reader cuts at.
            self.break_lines(1);
            "--".chars().for_each(|c| self.char(c));
            self.break_lines(1);
        }
        match name {
            // The tokenizer reads their content as raw text (what the
            // standard's tree builder tells it); none of it is shown.
            "style" | "script" | "title" | "template" | "xmp" | "noembed" | "noframes"
            | "iframe" => {
                if start {
                    self.hidden += 1;
                    return TokenSinkResult::RawData(match name {
                        "title" => RawKind::Rcdata,
                        "script" => RawKind::ScriptData,
                        _ => RawKind::Rawtext,
                    });
                }
                self.hidden = self.hidden.saturating_sub(1);
            }
            "textarea" if start => return TokenSinkResult::RawData(RawKind::Rcdata),
            "br" => self.hard_break(),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => self.break_lines(2),
            "blockquote" => {
                self.break_lines(1);
                self.quoted = nested(self.quoted, start);
            }
            "pre" => {
                self.break_lines(1);
                self.pre = nested(self.pre, start);
            }
            "div" | "li" | "ul" | "ol" | "dl" | "dt" | "dd" | "tr" | "table" | "thead"
            | "tbody" | "tfoot" | "caption" | "hr" | "address" | "article" | "aside" | "center"
            | "details" | "summary" | "figure" | "figcaption" | "footer" | "header" | "main"
            | "nav" | "section" | "form" | "fieldset" | "legend" => self.break_lines(1),
            "td" | "th" => self.space = !self.line_start,
            "img" if start && self.hidden == 0 => {
                let alt = tag.attrs.iter().find(|a| &*a.name.local == "alt");
                if let Some(alt) = alt.filter(|a| emoji_alt(&a.value)) {
                    if !self.line_start {
                        self.space = true;
                    }
                    alt.value.chars().for_each(|c| self.char(c));
                    self.space = true;
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// How deep inside an element after its start tag (`start`) or end tag:
/// an end tag with none open leaves it at 0.
fn nested(depth: u32, start: bool) -> u32 {
    if start {
        depth.saturating_add(1)
    } else {
        depth.saturating_sub(1)
    }
}

/// Classes and ids mail clients give the block that holds the sender's
/// signature (Gmail, Thunderbird, Outlook on the web), lower case.
const SIGNATURE_CLASSES: [&str; 2] = ["gmail_signature", "moz-signature"];
const SIGNATURE_IDS: [&str; 1] = ["signature"];

/// `tag` opens a block its mail client marked as the signature.
fn signature_block(tag: &Tag) -> bool {
    tag.attrs.iter().any(|a| match &*a.name.local {
        "class" => a
            .value
            .split_ascii_whitespace()
            .any(|c| SIGNATURE_CLASSES.iter().any(|s| c.eq_ignore_ascii_case(s))),
        "id" => SIGNATURE_IDS
            .iter()
            .any(|s| a.value.trim().eq_ignore_ascii_case(s)),
        _ => false,
    })
}

/// An image's `alt` read as text: short, with no letter or digit (an
/// emoji sent as an image: "😀"; not "Company logo").
fn emoji_alt(alt: &str) -> bool {
    !alt.trim().is_empty() && alt.chars().count() <= 8 && !alt.chars().any(char::is_alphanumeric)
}

/// The tokenizer's sink (it takes `&self`).
struct Sink(RefCell<Render>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut r = self.0.borrow_mut();
        match token {
            Token::TagToken(tag) => return r.tag(&tag),
            Token::CharacterTokens(t) if r.hidden == 0 => t.chars().for_each(|c| r.char(c)),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_in_plain_text_are_decoded_and_nothing_else() {
        let d = |t: &str| references(t);
        assert_eq!(
            d("we still can&#39;t log in").as_deref(),
            Some("we still can't log in")
        );
        assert_eq!(
            d("R&amp;D says &quot;down&quot; &rsquo;n&#x27;&#X41;").as_deref(),
            Some("R&D says \"down\" \u{2019}n'A")
        );
        // Two characters for one name.
        assert_eq!(d("&NotEqualTilde;").as_deref(), Some("\u{2242}\u{338}"));
        for t in [
            "AT&T and Q&A",
            "&nbsp without its semicolon",
            "&unknownname;",
            "&#;",
            "&#x;",
            "&#0;",
            "&#1;",
            "&#xD800;",
            "&#99999999;",
            "&;",
            "a & b; c",
            "&é;",
            "",
        ] {
            assert_eq!(d(t), None, "{t}");
        }
        // A reference after one that is none.
        assert_eq!(d("&& &amp;").as_deref(), Some("&& &"));
        let long = "&amp;".repeat(50_000);
        assert_eq!(d(&long).map(|s| s.len()), Some(50_000));
        let _ = d(&"&#".repeat(50_000));
        let _ = d(&"&a".repeat(50_000));
    }

    #[test]
    fn html_is_told_from_plain_text() {
        for html in [
            "<html><body><p>Hi</p></body></html>",
            "  \n<!DOCTYPE html><html>",
            "\u{feff}<div dir=\"ltr\">Hello</div>",
            "<P>Hello</P>",
            "<p>Hello",
            "<!-- a comment --><p>x</p>",
            "Hello,<br>the export fails.<br>Thanks",
            "Hello,<BR/>the export fails.<br />Thanks",
            "First</p>second</div>",
        ] {
            assert!(is_html(html), "{html:?}");
        }
        for text in [
            "",
            "The export fails when x < 5 and y > 3.",
            "On Mon, Jane <jane@example.com> wrote:\n> hello",
            "My template <div class=\"x\"></div> renders wrong.",
            "One break<br> in a sentence",
            "<jane@example.com> cannot log in",
            "<b", // cut short
            "<paragraph> is not a tag",
        ] {
            assert!(!is_html(text), "{text:?}");
        }
    }

    #[test]
    fn markup_is_read_as_the_text_a_mail_client_shows() {
        let html = "<html><head><title>Invoice</title><style>p{margin:0} .x{color:red}</style>\
            </head><body><div dir=\"ltr\"><p>Hi   team,</p><p>Could you send me last month&#39;s \
            invoice?&nbsp;Our accounting&nbsp;needs it.</p><ul><li>PDF</li><li>CSV</li></ul>\
            <table><tr><td>Plan</td><td>Pro</td></tr></table>Thanks,<br>Anna<br><br><br>\
            <script>alert(1)</script></div></body></html>";
        assert_eq!(
            text(html),
            "Hi team,\n\nCould you send me last month's invoice? Our accounting needs it.\n\n\
             PDF\nCSV\nPlan Pro\nThanks,\nAnna"
        );
    }

    #[test]
    fn a_quoted_reply_is_quoted_as_in_plain_text() {
        // Gmail's reply: the header in a div, the thread in a blockquote.
        let html = "<div dir=\"ltr\">Thanks, all good now.</div><br><div class=\"gmail_quote\">\
            <div dir=\"ltr\" class=\"gmail_attr\">On Mon, Nov 23, 2026 at 9:14 AM Support &lt;\
            support@example.com&gt; wrote:<br></div><blockquote class=\"gmail_quote\" style=\"\
            margin:0px\">Production is down<br>for all users.<blockquote>Data loss?</blockquote>\
            </blockquote></div>";
        assert_eq!(
            text(html),
            "Thanks, all good now.\n\nOn Mon, Nov 23, 2026 at 9:14 AM Support \
             <support@example.com> wrote:\n> Production is down\n> for all users.\n> Data loss?"
        );
    }

    #[test]
    fn a_signature_the_mail_client_marked_is_delimited() {
        // Gmail's signature block: no "-- " of its own in HTML.
        let html = "<div dir=\"ltr\">Can you add two more seats?<br clear=\"all\"><div>\
            <div dir=\"ltr\" class=\"gmail_signature\">Jane Doe<br>Head of Security Incident \
            Response</div></div></div>";
        assert_eq!(
            text(html),
            "Can you add two more seats?\n--\nJane Doe\nHead of Security Incident Response"
        );
        // Outlook on the web, Thunderbird.
        assert!(text("<p>Hi</p><div id=\"Signature\">Jo</div>").contains("\n--\nJo"));
        assert!(text("<p>Hi</p><pre class=\"moz-signature\">Jo</pre>").contains("\n--\nJo"));
        // Not a class that merely mentions it.
        assert_eq!(
            text("<p>Hi</p><div class=\"no_signature_here\">Jo</div>"),
            "Hi\n\nJo"
        );
    }

    #[test]
    fn pre_keeps_its_lines_and_emoji_images_are_read() {
        let html = "<p>Log:</p><pre>line 1\n  line 2</pre><p>So sad <img src=\"x.png\" \
            alt=\"😞\"> <img alt=\"Acme logo\"></p>";
        assert_eq!(text(html), "Log:\n\nline 1\n  line 2\n\nSo sad 😞");
    }

    #[test]
    fn broken_markup_is_read_without_failing() {
        for html in [
            "<p>unclosed <b>bold <i>italic",
            "<style>never closed p{}",
            "</blockquote></blockquote>text",
            "<p>&bogus; &#xZZ; &#1114112; &amp",
            "<<<>>><p>",
            "<div",
        ] {
            let t = text(html);
            assert!(t.len() <= 2 * html.len() + 8, "{html:?} -> {t:?}");
        }
        assert_eq!(text("<p>unclosed <b>bold"), "unclosed bold");
        assert_eq!(text("<style>never closed p{}"), "");
        assert_eq!(text("</blockquote></blockquote>text"), "text");
    }

    #[test]
    fn deep_quotes_stay_linear() {
        let n = 10_000;
        let html = format!("<p>x{}", "<blockquote>y<br>".repeat(n));
        let t = text(&html);
        assert!(
            t.len() <= 2 * html.len(),
            "{} bytes from {}",
            t.len(),
            html.len()
        );
        assert!(t.lines().skip(1).all(|l| l == "> y"));
    }
}
