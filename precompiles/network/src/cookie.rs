//! AWS load-balancer stickiness cookies (`AWSALB`, `AWSALBCORS`) kept during one request.
//!
//! suave-geth parses the `Set-Cookie` headers of every HTTP response with Go's `net/http`,
//! stores these two cookies in the run's context as Go's `Cookie.String()` serialization
//! (readable with `contextGet("__cookie_AWSALB")`), and re-sends them on every later request
//! of the run, to any host. This module reproduces the parsing and serialization (Go 1.20/1.21
//! `net/http`, the toolchain suave-geth v0.2.6 is built with) and fixes the leak: a cookie is
//! re-sent only to the host that set it, as `name=value` (suave-geth sends the whole
//! serialization, attributes included, as the `Cookie` value).

use std::collections::BTreeMap;

/// Names of the cookies kept, as suave-geth keeps them.
pub const KEPT_COOKIES: [&str; 2] = ["AWSALB", "AWSALBCORS"];

/// `contextGet` key prefix under which kept cookies appear.
pub const CONTEXT_PREFIX: &str = "__cookie_";

/// A cookie kept for the rest of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Kept {
    /// Host (lower-case) of the response that set it; the only host it is sent back to.
    host: String,
    /// `name=value` as sent back in a `Cookie` header.
    pair: String,
    /// Go's `Cookie.String()`, the `contextGet` value.
    serialized: String,
}

/// The cookies of one run, by name. `Debug` shows names and hosts, never values.
#[derive(Clone, Default)]
pub struct CookieJar {
    kept: BTreeMap<String, Kept>,
}

impl std::fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.kept.iter().map(|(name, k)| (name, &k.host)))
            .finish()
    }
}

impl CookieJar {
    /// Keeps the `AWSALB`/`AWSALBCORS` cookies among `set_cookie` header values of a response
    /// from `host`; a later cookie of the same name replaces an earlier one.
    pub fn store<'a>(&mut self, host: &str, set_cookie: impl IntoIterator<Item = &'a str>) {
        for line in set_cookie {
            let Some(cookie) = parse_set_cookie(line) else {
                continue;
            };
            if KEPT_COOKIES.contains(&cookie.name.as_str()) {
                self.kept.insert(
                    cookie.name.clone(),
                    Kept {
                        host: host.to_ascii_lowercase(),
                        pair: format!("{}={}", cookie.name, sanitize_value(&cookie.value)),
                        serialized: cookie.to_go_string(),
                    },
                );
            }
        }
    }

    /// The `Cookie` header value for a request to `host`, if a kept cookie was set by it.
    pub fn header_for(&self, host: &str) -> Option<String> {
        let pairs: Vec<&str> = self
            .kept
            .values()
            .filter(|k| k.host.eq_ignore_ascii_case(host))
            .map(|k| k.pair.as_str())
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// The `contextGet` value of `key` (`__cookie_AWSALB`, `__cookie_AWSALBCORS`).
    pub fn context_value(&self, key: &str) -> Option<&str> {
        let name = key.strip_prefix(CONTEXT_PREFIX)?;
        self.kept.get(name).map(|k| k.serialized.as_str())
    }
}

/// A parsed `Set-Cookie` line (the attributes Go's `Cookie.String()` prints).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetCookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value, surrounding quotes removed.
    pub value: String,
    /// `Path` attribute.
    pub path: String,
    /// `Domain` attribute.
    pub domain: String,
    /// `Expires`, already in Go's output form (`Mon, 02 Jan 2006 15:04:05 GMT`), when it
    /// parsed and its year is at least 1601.
    pub expires: Option<String>,
    /// `Max-Age` as Go keeps it: 0 unset, -1 delete now, else seconds.
    pub max_age: i64,
    /// `HttpOnly` flag.
    pub http_only: bool,
    /// `Secure` flag.
    pub secure: bool,
    /// `SameSite`: `None`, `Lax`, `Strict`, or empty for the default mode.
    pub same_site: &'static str,
}

impl SetCookie {
    /// Go's `Cookie.String()`.
    pub fn to_go_string(&self) -> String {
        let mut s = format!("{}={}", self.name, sanitize_value(&self.value));
        if !self.path.is_empty() {
            s.push_str("; Path=");
            s.extend(
                self.path
                    .chars()
                    .filter(|c| (' '..'\x7f').contains(c) && *c != ';'),
            );
        }
        if !self.domain.is_empty() && valid_cookie_domain(&self.domain) {
            s.push_str("; Domain=");
            s.push_str(self.domain.strip_prefix('.').unwrap_or(&self.domain));
        }
        if let Some(expires) = &self.expires {
            s.push_str("; Expires=");
            s.push_str(expires);
        }
        if self.max_age > 0 {
            s.push_str(&format!("; Max-Age={}", self.max_age));
        } else if self.max_age < 0 {
            s.push_str("; Max-Age=0");
        }
        if self.http_only {
            s.push_str("; HttpOnly");
        }
        if self.secure {
            s.push_str("; Secure");
        }
        if !self.same_site.is_empty() {
            s.push_str("; SameSite=");
            s.push_str(self.same_site);
        }
        s
    }
}

/// Parses one `Set-Cookie` header value as Go's `readSetCookies` does; `None` when Go drops it.
pub fn parse_set_cookie(line: &str) -> Option<SetCookie> {
    let mut parts = trim(line).split(';');
    let first = trim(parts.next()?);
    let (name, value) = first.split_once('=')?;
    let name = trim(name);
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return None;
    }
    let mut cookie = SetCookie {
        name: name.to_owned(),
        value: parse_cookie_value(value, true)?.to_owned(),
        ..SetCookie::default()
    };
    for part in parts {
        let part = trim(part);
        if part.is_empty() {
            continue;
        }
        let (attr, val) = part.split_once('=').unwrap_or((part, ""));
        if !attr.is_ascii() {
            continue;
        }
        let Some(val) = parse_cookie_value(val, false) else {
            continue;
        };
        match attr.to_ascii_lowercase().as_str() {
            "samesite" => {
                cookie.same_site = match val.to_ascii_lowercase().as_str() {
                    "lax" => "Lax",
                    "strict" => "Strict",
                    "none" => "None",
                    _ => "",
                }
            }
            "secure" => cookie.secure = true,
            "httponly" => cookie.http_only = true,
            "domain" => cookie.domain = val.to_owned(),
            "max-age" => {
                if let Ok(secs) = val.parse::<i64>() {
                    if secs == 0 || !val.starts_with('0') {
                        cookie.max_age = if secs <= 0 { -1 } else { secs };
                    }
                }
            }
            "expires" => cookie.expires = parse_expires(val),
            "path" => cookie.path = val.to_owned(),
            _ => {}
        }
    }
    Some(cookie)
}

/// Go's `textproto.TrimString`: ASCII space, tab, CR, LF.
fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn valid_value_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b'"' && b != b';' && b != b'\\'
}

/// Go's `parseCookieValue`.
fn parse_cookie_value(raw: &str, allow_quotes: bool) -> Option<&str> {
    let raw = if allow_quotes && raw.len() > 1 && raw.starts_with('"') && raw.ends_with('"') {
        &raw[1..raw.len() - 1]
    } else {
        raw
    };
    raw.bytes().all(valid_value_byte).then_some(raw)
}

/// Go's `sanitizeCookieValue` (1.20): drop invalid bytes, quote if a space or comma remains.
fn sanitize_value(v: &str) -> String {
    let v: String = v
        .bytes()
        .filter(|b| valid_value_byte(*b))
        .map(char::from)
        .collect();
    if v.contains([' ', ',']) {
        format!("\"{v}\"")
    } else {
        v
    }
}

/// Go's `validCookieDomain`: a domain name, or an IPv4 literal.
fn valid_cookie_domain(v: &str) -> bool {
    is_cookie_domain_name(v) || (v.parse::<std::net::Ipv4Addr>().is_ok())
}

/// Go's `isCookieDomainName`.
fn is_cookie_domain_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    let s = s.strip_prefix('.').unwrap_or(s).as_bytes();
    let mut last = b'.';
    let mut seen_letter = false;
    let mut part_len = 0;
    for &c in s {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {
                seen_letter = true;
                part_len += 1;
            }
            b'0'..=b'9' => part_len += 1,
            b'-' => {
                if last == b'.' {
                    return false;
                }
                part_len += 1;
            }
            b'.' => {
                if last == b'.' || last == b'-' || part_len > 63 || part_len == 0 {
                    return false;
                }
                part_len = 0;
            }
            _ => return false,
        }
        last = c;
    }
    last != b'-' && part_len <= 63 && seen_letter
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses an `Expires` value as Go does (`Mon, 02 Jan 2006 15:04:05 MST`, then
/// `Mon, 02-Jan-2006 15:04:05 MST`) and formats it in UTC as `Mon, 02 Jan 2006 15:04:05 GMT`;
/// `None` if it does not parse or its year is before 1601 (Go then omits it).
fn parse_expires(v: &str) -> Option<String> {
    let (weekday, rest) = v.split_once(", ")?;
    if !DAYS.iter().any(|d| d.eq_ignore_ascii_case(weekday)) {
        return None;
    }
    let fields: Vec<&str> = rest.split(' ').collect();
    match fields[..] {
        [day, month, year, clock, zone] => finish_expires(day, month, year, clock, zone),
        [date, clock, zone] => {
            let date: Vec<&str> = date.split('-').collect();
            let [day, month, year] = date[..] else {
                return None;
            };
            finish_expires(day, month, year, clock, zone)
        }
        _ => None,
    }
}

fn finish_expires(day: &str, month: &str, year: &str, clock: &str, zone: &str) -> Option<String> {
    let digits = |s: &str, n: usize| -> Option<i64> {
        (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let day = digits(day, 2)?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as i64 + 1;
    let year = digits(year, 4)?;
    let mut hms = clock.split(':');
    let hour_s = hms.next()?;
    let hour = if hour_s.len() == 1 {
        digits(hour_s, 1)?
    } else {
        digits(hour_s, 2)?
    };
    let min = digits(hms.next()?, 2)?;
    let sec = digits(hms.next()?, 2)?;
    if hms.next().is_some() || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let offset = zone_offset(zone)?;
    let unix = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset;
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if y < 1601 {
        return None;
    }
    let weekday = DAYS[(days + 4).rem_euclid(7) as usize];
    Some(format!(
        "{weekday}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    ))
}

/// Offset in seconds of a Go `MST` zone field: `GMT±h` has one; any other 3–5 letter
/// abbreviation parses with offset 0 (a UTC kettle knows no other), as Go does.
fn zone_offset(zone: &str) -> Option<i64> {
    if let Some(num) = zone.strip_prefix("GMT").filter(|n| !n.is_empty()) {
        let hours: i64 = num.parse().ok()?;
        if !(num.starts_with('+') || num.starts_with('-')) || !(-23..=23).contains(&hours) {
            return None;
        }
        return Some(hours * 3600);
    }
    ((3..=5).contains(&zone.len()) && zone.bytes().all(|b| b.is_ascii_alphabetic())).then_some(0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_cookies_serialize_like_go() {
        let c =
            parse_set_cookie("AWSALB=abc/def+==; Expires=Tue, 01 Jul 2025 10:00:00 GMT; Path=/")
                .unwrap();
        assert_eq!(
            c.to_go_string(),
            "AWSALB=abc/def+==; Path=/; Expires=Tue, 01 Jul 2025 10:00:00 GMT"
        );
        let c = parse_set_cookie(
            "AWSALBCORS=x; expires=wed, 02-jul-2025 9:00:00 CET; path=/; SameSite=None; Secure; HttpOnly; Max-Age=60; Domain=.Example.com",
        )
        .unwrap();
        assert_eq!(
            c.to_go_string(),
            "AWSALBCORS=x; Path=/; Domain=Example.com; Expires=Wed, 02 Jul 2025 09:00:00 GMT; Max-Age=60; HttpOnly; Secure; SameSite=None"
        );
    }

    #[test]
    fn go_parse_edge_cases() {
        assert!(parse_set_cookie("noequals").is_none());
        assert!(parse_set_cookie("bad name=1").is_none());
        assert!(parse_set_cookie("a=b\\c").is_none());
        assert_eq!(
            parse_set_cookie("a=\"q v\"").unwrap().to_go_string(),
            "a=\"q v\""
        );
        // Unparseable or pre-1601 expiry and leading-zero Max-Age are dropped.
        let c = parse_set_cookie("a=1; Expires=soon; Max-Age=01").unwrap();
        assert_eq!(c.to_go_string(), "a=1");
        let c = parse_set_cookie("a=1; Expires=Mon, 01 Jan 1600 00:00:00 GMT; Max-Age=-5").unwrap();
        assert_eq!(c.to_go_string(), "a=1; Max-Age=0");
        let c = parse_set_cookie("a=1; Expires=Mon, 31 Feb 2025 00:00:00 GMT").unwrap();
        assert_eq!(c.expires, None);
        let c = parse_set_cookie("a=1; Expires=Mon, 01 Jan 2024 01:00:00 GMT+2").unwrap();
        assert_eq!(c.expires.as_deref(), Some("Sun, 31 Dec 2023 23:00:00 GMT"));
        let c = parse_set_cookie("a=1; Domain=bad_domain; SameSite=odd").unwrap();
        assert_eq!(c.to_go_string(), "a=1");
    }

    #[test]
    fn jar_resends_only_to_the_setting_host() {
        let mut jar = CookieJar::default();
        jar.store(
            "lb.example",
            [
                "AWSALB=one; Path=/",
                "other=ignored",
                "AWSALBCORS=two; Secure",
            ],
        );
        assert_eq!(
            jar.header_for("LB.example").as_deref(),
            Some("AWSALB=one; AWSALBCORS=two")
        );
        assert_eq!(jar.header_for("other.example"), None);
        assert_eq!(
            jar.context_value("__cookie_AWSALB"),
            Some("AWSALB=one; Path=/")
        );
        assert_eq!(jar.context_value("__cookie_other"), None);
        assert_eq!(jar.context_value("AWSALB"), None);
        jar.store("b.example", ["AWSALB=three"]);
        assert_eq!(
            jar.header_for("lb.example").as_deref(),
            Some("AWSALBCORS=two")
        );
        assert_eq!(jar.header_for("b.example").as_deref(), Some("AWSALB=three"));
    }

    #[test]
    fn civil_round_trip() {
        for days in [-200_000, -1, 0, 1, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
