//! The bits of Go's `encoding/json` whose exact bytes reach the wire or a revert message.
//!
//! - [`compact`]: what Go does to a `json.RawMessage` it marshals: validate, drop
//!   insignificant whitespace, escape `<`, `>`, `&`, U+2028 and U+2029 (HTML escaping), and
//!   fail with Go's syntax-error message (`invalid character 'x' looking for beginning of
//!   value`, `unexpected end of JSON input`, ...).
//! - [`write_string`]: how Go marshals a `string` (Go 1.20/1.21, suave-geth's toolchain:
//!   `\b` and `\f` are written as `\u0008`, `\u000c`).
//!
//! The scanner is iterative (an explicit stack), so hostile nesting cannot overflow the call
//! stack; Go's own depth limit (10000) applies.

/// Go's maximum nesting depth.
const MAX_DEPTH: usize = 10_000;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Validates `src` as one JSON value and appends its compact, HTML-escaped form to `dst`;
/// on invalid JSON returns Go's syntax-error message.
pub fn compact(dst: &mut Vec<u8>, src: &[u8]) -> Result<(), String> {
    let start = dst.len();
    let result = Scanner::new(src).run(dst);
    if result.is_err() {
        dst.truncate(start);
    }
    result
}

/// Appends `s` as a Go-marshalled JSON string (with HTML escaping) to `dst`.
pub fn write_string(dst: &mut Vec<u8>, s: &str) {
    dst.push(b'"');
    for c in s.chars() {
        match c {
            '"' => dst.extend_from_slice(b"\\\""),
            '\\' => dst.extend_from_slice(b"\\\\"),
            '\n' => dst.extend_from_slice(b"\\n"),
            '\r' => dst.extend_from_slice(b"\\r"),
            '\t' => dst.extend_from_slice(b"\\t"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                let b = c as u8;
                dst.extend_from_slice(b"\\u00");
                dst.push(HEX[usize::from(b >> 4)]);
                dst.push(HEX[usize::from(b & 0xf)]);
            }
            '\u{2028}' => dst.extend_from_slice(b"\\u2028"),
            '\u{2029}' => dst.extend_from_slice(b"\\u2029"),
            _ => {
                let mut buf = [0u8; 4];
                dst.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    dst.push(b'"');
}

/// Where a value sits, to name what may follow it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    ObjectKey,
    ObjectValue,
    Array,
}

struct Scanner<'a> {
    src: &'a [u8],
    pos: usize,
    stack: Vec<Frame>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Go's `quoteChar`: how a byte appears in a syntax-error message.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        _ => {
            let ch = char::from(c);
            let inner = match ch {
                '\x07' => "\\a".into(),
                '\x08' => "\\b".into(),
                '\x0c' => "\\f".into(),
                '\n' => "\\n".into(),
                '\r' => "\\r".into(),
                '\t' => "\\t".into(),
                '\x0b' => "\\v".into(),
                '\\' => "\\\\".into(),
                c if c < ' ' || c == '\x7f' => format!("\\x{:02x}", c as u32),
                c if ('\u{80}'..='\u{a0}').contains(&c) || c == '\u{ad}' => {
                    format!("\\u{:04x}", c as u32)
                }
                c => c.to_string(),
            };
            format!("'{inner}'")
        }
    }
}

impl<'a> Scanner<'a> {
    fn new(src: &'a [u8]) -> Self {
        Self {
            src,
            pos: 0,
            stack: Vec::new(),
        }
    }

    fn err(&self, c: u8, context: &str) -> String {
        format!("invalid character {} {context}", quote_char(c))
    }

    fn eof() -> String {
        "unexpected end of JSON input".into()
    }

    fn skip_space(&mut self) {
        while self.pos < self.src.len() && is_space(self.src[self.pos]) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn run(mut self, out: &mut Vec<u8>) -> Result<(), String> {
        // Parse one value, then anything after it must be whitespace.
        self.value(out)?;
        loop {
            // After a complete value: close containers / separators.
            self.skip_space();
            let Some(frame) = self.stack.last().copied() else {
                break;
            };
            let Some(c) = self.peek() else {
                return Err(Self::eof());
            };
            match frame {
                Frame::ObjectKey => {
                    if c != b':' {
                        return Err(self.err(c, "after object key"));
                    }
                    out.push(b':');
                    self.pos += 1;
                    if let Some(top) = self.stack.last_mut() {
                        *top = Frame::ObjectValue;
                    }
                    self.value(out)?;
                }
                Frame::ObjectValue => match c {
                    b',' => {
                        out.push(b',');
                        self.pos += 1;
                        self.skip_space();
                        match self.peek() {
                            None => return Err(Self::eof()),
                            Some(b'"') => {
                                if let Some(top) = self.stack.last_mut() {
                                    *top = Frame::ObjectKey;
                                }
                                self.string(out)?;
                            }
                            Some(c) => {
                                return Err(
                                    self.err(c, "looking for beginning of object key string")
                                )
                            }
                        }
                    }
                    b'}' => {
                        out.push(b'}');
                        self.pos += 1;
                        self.stack.pop();
                    }
                    _ => return Err(self.err(c, "after object key:value pair")),
                },
                Frame::Array => match c {
                    b',' => {
                        out.push(b',');
                        self.pos += 1;
                        self.value(out)?;
                    }
                    b']' => {
                        out.push(b']');
                        self.pos += 1;
                        self.stack.pop();
                    }
                    _ => return Err(self.err(c, "after array element")),
                },
            }
        }
        self.skip_space();
        match self.peek() {
            None => Ok(()),
            Some(c) => Err(self.err(c, "after top-level value")),
        }
    }

    fn push(&mut self, frame: Frame) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err("exceeded max depth".into());
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Scans the start of a value: a scalar entirely, or the opening of a container (and, for
    /// an object, its first key).
    fn value(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        loop {
            self.skip_space();
            let Some(c) = self.peek() else {
                return Err(Self::eof());
            };
            return match c {
                b'{' => {
                    out.push(b'{');
                    self.pos += 1;
                    self.skip_space();
                    match self.peek() {
                        None => Err(Self::eof()),
                        Some(b'}') => {
                            out.push(b'}');
                            self.pos += 1;
                            Ok(())
                        }
                        Some(b'"') => {
                            self.push(Frame::ObjectKey)?;
                            self.string(out)
                        }
                        Some(c) => Err(self.err(c, "looking for beginning of object key string")),
                    }
                }
                b'[' => {
                    out.push(b'[');
                    self.pos += 1;
                    self.skip_space();
                    match self.peek() {
                        None => Err(Self::eof()),
                        Some(b']') => {
                            out.push(b']');
                            self.pos += 1;
                            Ok(())
                        }
                        Some(_) => {
                            // The first element: scanned by the next turn, not by recursion.
                            self.push(Frame::Array)?;
                            continue;
                        }
                    }
                }
                b'"' => self.string(out),
                b'-' | b'0'..=b'9' => self.number(out),
                b't' => self.literal(out, b"true"),
                b'f' => self.literal(out, b"false"),
                b'n' => self.literal(out, b"null"),
                _ => Err(self.err(c, "looking for beginning of value")),
            };
        }
    }

    fn literal(&mut self, out: &mut Vec<u8>, word: &[u8]) -> Result<(), String> {
        for &want in word {
            match self.peek() {
                None => return Err(Self::eof()),
                Some(c) if c == want => {
                    out.push(c);
                    self.pos += 1;
                }
                Some(c) => {
                    let name = std::str::from_utf8(word).unwrap_or("literal");
                    return Err(self.err(
                        c,
                        &format!("in literal {name} (expecting {})", quote_char(want)),
                    ));
                }
            }
        }
        Ok(())
    }

    fn digits(&mut self, out: &mut Vec<u8>) -> usize {
        let start = self.pos;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            out.push(c);
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if self.peek() == Some(b'-') {
            out.push(b'-');
            self.pos += 1;
            match self.peek() {
                None => return Err(Self::eof()),
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(self.err(c, "in numeric literal")),
            }
        }
        if self.peek() == Some(b'0') {
            out.push(b'0');
            self.pos += 1;
        } else {
            self.digits(out);
        }
        if self.peek() == Some(b'.') {
            out.push(b'.');
            self.pos += 1;
            match self.peek() {
                None => return Err(Self::eof()),
                Some(b'0'..=b'9') => {
                    self.digits(out);
                }
                Some(c) => return Err(self.err(c, "after decimal point in numeric literal")),
            }
        }
        if let Some(e @ (b'e' | b'E')) = self.peek() {
            out.push(e);
            self.pos += 1;
            if let Some(sign @ (b'+' | b'-')) = self.peek() {
                out.push(sign);
                self.pos += 1;
            }
            match self.peek() {
                None => return Err(Self::eof()),
                Some(b'0'..=b'9') => {
                    self.digits(out);
                }
                Some(c) => return Err(self.err(c, "in exponent of numeric literal")),
            }
        }
        Ok(())
    }

    fn string(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        // Opening quote.
        out.push(b'"');
        self.pos += 1;
        loop {
            let Some(c) = self.peek() else {
                return Err(Self::eof());
            };
            match c {
                b'"' => {
                    out.push(b'"');
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => {
                    out.push(b'\\');
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        return Err(Self::eof());
                    };
                    match e {
                        b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => {
                            out.push(e);
                            self.pos += 1;
                        }
                        b'u' => {
                            out.push(b'u');
                            self.pos += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    None => return Err(Self::eof()),
                                    Some(h) if h.is_ascii_hexdigit() => {
                                        out.push(h);
                                        self.pos += 1;
                                    }
                                    Some(h) => {
                                        return Err(
                                            self.err(h, "in \\u hexadecimal character escape")
                                        )
                                    }
                                }
                            }
                        }
                        _ => return Err(self.err(e, "in string escape code")),
                    }
                }
                b'<' | b'>' | b'&' => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(c >> 4)]);
                    out.push(HEX[usize::from(c & 0xf)]);
                    self.pos += 1;
                }
                0xE2 if self.src.get(self.pos + 1) == Some(&0x80)
                    && matches!(self.src.get(self.pos + 2), Some(0xA8 | 0xA9)) =>
                {
                    out.extend_from_slice(b"\\u202");
                    out.push(HEX[usize::from(self.src[self.pos + 2] & 0xf)]);
                    self.pos += 3;
                }
                c if c < 0x20 => return Err(self.err(c, "in string literal")),
                c => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compacted(s: &str) -> Result<String, String> {
        let mut out = Vec::new();
        compact(&mut out, s.as_bytes()).map(|()| String::from_utf8(out).unwrap())
    }

    #[test]
    fn compacts_and_escapes_html() {
        assert_eq!(
            compacted(" { \"a\" : [ 1 , -2.5e+3 , true , null ] ,\n \"b\":\"<&>\u{2028}\" } ")
                .unwrap(),
            "{\"a\":[1,-2.5e+3,true,null],\"b\":\"\\u003c\\u0026\\u003e\\u2028\"}"
        );
        assert_eq!(compacted("\"\\u00e9\\n\"").unwrap(), "\"\\u00e9\\n\"");
        assert_eq!(compacted("[]").unwrap(), "[]");
        assert_eq!(compacted("{}").unwrap(), "{}");
    }

    #[test]
    fn go_error_messages() {
        for (input, msg) in [
            ("", "unexpected end of JSON input"),
            ("   ", "unexpected end of JSON input"),
            ("x", "invalid character 'x' looking for beginning of value"),
            (
                "{1}",
                "invalid character '1' looking for beginning of object key string",
            ),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            (
                "{\"a\":1 2}",
                "invalid character '2' after object key:value pair",
            ),
            ("[1 2]", "invalid character '2' after array element"),
            (
                "[1,]",
                "invalid character ']' looking for beginning of value",
            ),
            ("1 2", "invalid character '2' after top-level value"),
            ("01", "invalid character '1' after top-level value"),
            ("-x", "invalid character 'x' in numeric literal"),
            (
                "1.x",
                "invalid character 'x' after decimal point in numeric literal",
            ),
            (
                "1ex",
                "invalid character 'x' in exponent of numeric literal",
            ),
            ("\"a\nb\"", "invalid character '\\n' in string literal"),
            ("\"\\x\"", "invalid character 'x' in string escape code"),
            (
                "\"\\u12g4\"",
                "invalid character 'g' in \\u hexadecimal character escape",
            ),
            ("tru", "unexpected end of JSON input"),
            ("[1", "unexpected end of JSON input"),
            (
                "{\"a\":1,}",
                "invalid character '}' looking for beginning of object key string",
            ),
            (
                "'",
                "invalid character '\\'' looking for beginning of value",
            ),
        ] {
            assert_eq!(compacted(input).unwrap_err(), msg, "input {input:?}");
        }
    }

    #[test]
    fn literal_errors_name_the_expected_byte() {
        assert_eq!(
            compacted("trxe").unwrap_err(),
            "invalid character 'x' in literal true (expecting 'u')"
        );
        assert_eq!(
            compacted("nul1").unwrap_err(),
            "invalid character '1' in literal null (expecting 'l')"
        );
        assert_eq!(
            compacted("fx").unwrap_err(),
            "invalid character 'x' in literal false (expecting 'a')"
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = "[".repeat(20_000);
        assert_eq!(compacted(&deep).unwrap_err(), "exceeded max depth");
        let ok = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert_eq!(compacted(&ok).unwrap(), ok);
    }

    #[test]
    fn go_string_encoding() {
        let mut out = Vec::new();
        write_string(&mut out, "a\"\\<>&\u{8}\u{c}\n\t\u{2029}é");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"\\\\\\u003c\\u003e\\u0026\\u0008\\u000c\\n\\t\\u2029é\""
        );
    }
}
