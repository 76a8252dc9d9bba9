//! Which URLs a SUAPP may reach: service aliases, the host allow-list, and the addresses
//! those hosts resolve to.
//!
//! suave-geth checks only the host name, lets `*` reach anything (including the kettle's own
//! loopback services, private networks and cloud metadata endpoints), and lets redirects go
//! anywhere. Here (SUAVE-COMPAT §9 item 13):
//! - a host listed by name (or the host of an alias target) may resolve to any address: the
//!   operator named it;
//! - a host allowed only through `*` is resolved first, and only its public addresses are
//!   connected to; a host with none fails with [`NetworkError::InternalAddress`];
//! - the transport connects to exactly the vetted addresses (no second lookup an attacker's
//!   DNS could answer differently);
//! - every redirect target is checked like a new request (aliases aside).

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use url::{Host, Url};

use crate::error::{NetworkError, TransportError};

/// How far a target's host is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Listed by name, or the host of an alias target: any address.
    Listed,
    /// Allowed only by `*`: public addresses only.
    Wildcard,
}

/// A URL a request may go to, with how it was allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL to request.
    pub url: Url,
    /// How its host is trusted.
    pub trust: Trust,
    /// What error messages call this URL: the alias name for an alias (its URL may carry
    /// credentials), else the URL.
    pub label: String,
}

impl Target {
    /// The host name as Go's `url.Hostname()` gives it (IPv6 without brackets), lower-case.
    pub fn host(&self) -> String {
        hostname(&self.url)
    }
}

/// The allow-list and alias table of a kettle.
#[derive(Clone, Debug)]
pub struct UrlPolicy {
    wildcard: bool,
    hosts: HashSet<String>,
    aliases: BTreeMap<String, Url>,
}

impl UrlPolicy {
    /// Builds the policy from the configured allow-list and aliases; an alias whose URL does
    /// not parse, or is not http(s), is a configuration error.
    pub fn new(
        allowed_hosts: &[String],
        aliases: &BTreeMap<String, String>,
    ) -> Result<Self, NetworkError> {
        let mut wildcard = false;
        let mut hosts = HashSet::new();
        for entry in allowed_hosts {
            let entry = entry.trim();
            if entry == "*" {
                wildcard = true;
            } else if !entry.is_empty() {
                hosts.insert(normalize_host(entry));
            }
        }
        let mut parsed = BTreeMap::new();
        for (name, target) in aliases {
            let url = Url::parse(target).map_err(|e| {
                NetworkError::Config(format!("service alias {name:?}: invalid URL: {e}"))
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(NetworkError::Config(format!(
                    "service alias {name:?}: not an http(s) URL with a host"
                )));
            }
            parsed.insert(name.clone(), url);
        }
        Ok(Self {
            wildcard,
            hosts,
            aliases: parsed,
        })
    }

    /// Resolves a SUAPP-supplied URL or alias name: an exact alias match maps to the alias
    /// URL; anything else must parse and have an allowed host. The scheme is checked later,
    /// when the request is sent, as Go does.
    pub fn resolve(&self, raw: &str) -> Result<Target, NetworkError> {
        if let Some(url) = self.aliases.get(raw) {
            return Ok(Target {
                url: url.clone(),
                trust: Trust::Listed,
                label: raw.to_owned(),
            });
        }
        let url = match Url::parse(raw) {
            Ok(url) => url,
            // Go parses a relative reference and finds the empty host name in it.
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                return match self.host_trust("") {
                    Some(_) => Err(NetworkError::Transport {
                        op: "Get",
                        url: raw.to_owned(),
                        reason: TransportError::UnsupportedScheme(String::new()),
                    }),
                    None => Err(NetworkError::DomainNotAllowed(String::new())),
                };
            }
            Err(e) => {
                return Err(NetworkError::InvalidUrl {
                    url: raw.to_owned(),
                    reason: e.to_string(),
                })
            }
        };
        let host = hostname(&url);
        let trust = self
            .host_trust(&host)
            .ok_or(NetworkError::DomainNotAllowed(host))?;
        Ok(Target {
            url,
            trust,
            label: raw.to_owned(),
        })
    }

    /// Checks a redirect from `from` to `next`: the same host keeps its trust; any other host
    /// must pass the allow-list (aliases do not apply to redirect targets).
    pub fn redirect(&self, from: &Target, next: Url) -> Result<Target, String> {
        let host = hostname(&next);
        let trust = if host == from.host() {
            from.trust
        } else {
            self.host_trust(&host)
                .ok_or_else(|| format!("domain {host} is not allowed"))?
        };
        Ok(Target {
            label: next.to_string(),
            url: next,
            trust,
        })
    }

    /// How `host` (normalized) is trusted, or `None` if it is not allowed.
    fn host_trust(&self, host: &str) -> Option<Trust> {
        if self.hosts.contains(host) {
            Some(Trust::Listed)
        } else if self.wildcard {
            Some(Trust::Wildcard)
        } else {
            None
        }
    }
}

/// Resolves the addresses to connect to for `target`: IP literals as they are, names through
/// `resolver`; for [`Trust::Wildcard`] only public addresses are kept.
pub fn vet_addresses(
    target: &Target,
    resolver: &dyn NameResolver,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, VetError> {
    let port = target.url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match target.url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => resolver
            .resolve(name, port, timeout)
            .map_err(|reason| VetError::Lookup(reason.to_string()))?,
        None => return Err(VetError::Lookup("no host".into())),
    };
    if addrs.is_empty() {
        return Err(VetError::Lookup("no such host".into()));
    }
    match target.trust {
        Trust::Listed => Ok(addrs),
        Trust::Wildcard => {
            let public: Vec<SocketAddr> =
                addrs.into_iter().filter(|a| !is_internal(a.ip())).collect();
            if public.is_empty() {
                Err(VetError::Internal)
            } else {
                Ok(public)
            }
        }
    }
}

/// Why [`vet_addresses`] found nothing to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VetError {
    /// The name did not resolve.
    Lookup(String),
    /// It resolved only to internal addresses and is allowed only by `*`.
    Internal,
}

/// Name resolution, pluggable so tests can map names to chosen addresses without DNS.
pub trait NameResolver: Send + Sync {
    /// The socket addresses of `host` at `port`, within `timeout`.
    fn resolve(&self, host: &str, port: u16, timeout: Duration)
        -> std::io::Result<Vec<SocketAddr>>;
}

/// The operating system's resolver (`getaddrinfo`), bounded by a timeout: the lookup runs on
/// a helper thread that is abandoned if it takes too long.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl NameResolver for SystemResolver {
    fn resolve(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> std::io::Result<Vec<SocketAddr>> {
        let (tx, rx) = mpsc::sync_channel(1);
        let query = (host.to_owned(), port);
        std::thread::Builder::new()
            .name("kettle-dns".into())
            .spawn(move || {
                let result = query
                    .to_socket_addrs()
                    .map(|addrs| addrs.collect::<Vec<_>>());
                let _ = tx.send(result);
            })?;
        match rx.recv_timeout(timeout) {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "i/o timeout",
            )),
        }
    }
}

/// The host of `url` as Go's `url.Hostname()` gives it (IPv6 without brackets), lower-case.
pub fn hostname(url: &Url) -> String {
    match url.host() {
        Some(Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        None => String::new(),
    }
}

/// Normalizes an allow-list entry like [`hostname`] normalizes a URL host.
fn normalize_host(entry: &str) -> String {
    let bare = entry
        .strip_prefix('[')
        .and_then(|e| e.strip_suffix(']'))
        .unwrap_or(entry);
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => bare.to_ascii_lowercase(),
    }
}

/// Whether `ip` is not a public unicast address: loopback, private, shared (CGNAT),
/// link-local, unspecified, multicast, broadcast, reserved, documentation and benchmark
/// ranges, IPv6 unique-local and site-local, and IPv6 forms that embed such an IPv4 address
/// (mapped, compatible, NAT64, 6to4).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network"
        || a == 10
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || a == 127
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // multicast, reserved, broadcast
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    // IPv4-compatible (deprecated) ::a.b.c.d, and :: / ::1.
    if seg[..6] == [0; 6] {
        return true;
    }
    // NAT64 well-known prefix 64:ff9b::/96 embeds an IPv4 address.
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_internal_v4(Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        ));
    }
    // 6to4 2002::/16 embeds an IPv4 address in bits 16..48.
    if seg[0] == 0x2002 {
        return is_internal_v4(Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        ));
    }
    (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // site-local fec0::/10
        || (seg[0] & 0xff00) == 0xff00 // multicast
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || (seg[0] == 0x2001 && seg[1] < 0x0200) // IETF protocol assignments, Teredo
        || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0]) // discard-only 100::/64
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FixedResolver(Vec<IpAddr>);

    impl NameResolver for FixedResolver {
        fn resolve(&self, _: &str, port: u16, _: Duration) -> std::io::Result<Vec<SocketAddr>> {
            Ok(self.0.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
        }
    }

    fn policy(hosts: &[&str], aliases: &[(&str, &str)]) -> UrlPolicy {
        UrlPolicy::new(
            &hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            &aliases
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn allow_list_and_messages() {
        let p = policy(&["example.com", "127.0.0.1", "[::1]"], &[]);
        assert_eq!(
            p.resolve("http://EXAMPLE.com:81/x").unwrap().trust,
            Trust::Listed
        );
        assert_eq!(
            p.resolve("http://127.0.0.1:9/").unwrap().trust,
            Trust::Listed
        );
        assert_eq!(p.resolve("http://[::1]:9/").unwrap().trust, Trust::Listed);
        assert_eq!(
            p.resolve("https://evil.com/").unwrap_err().to_string(),
            "domain evil.com is not allowed"
        );
        assert_eq!(
            p.resolve("example.com/x").unwrap_err().to_string(),
            "domain  is not allowed"
        );
        // Numeric IPv4 forms are normalized before the comparison.
        assert_eq!(p.resolve("http://2130706433/").unwrap().host(), "127.0.0.1");
    }

    #[test]
    fn alias_exact_match_only() {
        let p = policy(&[], &[("goerli", "http://10.1.2.3:8545/key")]);
        let t = p.resolve("goerli").unwrap();
        assert_eq!(t.url.as_str(), "http://10.1.2.3:8545/key");
        assert_eq!(t.label, "goerli");
        assert_eq!(t.trust, Trust::Listed);
        assert_eq!(
            p.resolve("sepolia").unwrap_err().to_string(),
            "domain  is not allowed"
        );
        assert!(UrlPolicy::new(&[], &[("x".into(), "not a url".into())].into()).is_err());
    }

    #[test]
    fn wildcard_keeps_only_public_addresses() {
        let p = policy(&["*"], &[]);
        let t = p.resolve("http://rebind.example/").unwrap();
        assert_eq!(t.trust, Trust::Wildcard);
        let internal = FixedResolver(vec!["127.0.0.1".parse().unwrap()]);
        assert_eq!(
            vet_addresses(&t, &internal, Duration::from_secs(1)),
            Err(VetError::Internal)
        );
        let mixed = FixedResolver(vec![
            "10.0.0.1".parse().unwrap(),
            "93.184.216.34".parse().unwrap(),
        ]);
        let addrs = vet_addresses(&t, &mixed, Duration::from_secs(1)).unwrap();
        assert_eq!(addrs, vec!["93.184.216.34:80".parse().unwrap()]);
        let literal = p.resolve("http://169.254.169.254/latest").unwrap();
        assert_eq!(
            vet_addresses(&literal, &internal, Duration::from_secs(1)),
            Err(VetError::Internal)
        );
    }

    #[test]
    fn redirects_checked_like_requests() {
        let p = policy(&["a.example"], &[("svc", "http://10.0.0.5/")]);
        let from = p.resolve("http://a.example/").unwrap();
        assert!(p
            .redirect(&from, Url::parse("http://a.example/next").unwrap())
            .is_ok());
        assert_eq!(
            p.redirect(&from, Url::parse("http://b.example/").unwrap())
                .unwrap_err(),
            "domain b.example is not allowed"
        );
        let alias = p.resolve("svc").unwrap();
        let same = p
            .redirect(&alias, Url::parse("http://10.0.0.5/other").unwrap())
            .unwrap();
        assert_eq!(same.trust, Trust::Listed);
        assert!(p
            .redirect(&alias, Url::parse("http://10.0.0.6/").unwrap())
            .is_err());
    }

    #[test]
    fn internal_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.1.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "fd00::1",
            "fe80::1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }
}
