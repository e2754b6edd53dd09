//! Where a recipient domain's mail goes: a configured route, else MX (RFC 5321 §5.1).

use std::fmt;

use crate::config::{Route, TlsMode};

/// The next hop of one destination domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// A `[[routes]]` entry (its index in the configuration).
    Route(usize),
    /// MX lookup of the domain (lower-cased).
    Mx(String),
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHop::Route(index) => write!(f, "route #{index}"),
            NextHop::Mx(domain) => write!(f, "MX of {domain}"),
        }
    }
}

/// Whether `pattern` (exact, or `*.suffix`) covers `domain`. Both are compared
/// case-insensitively (RFC 5321 §2.4: domain names are not case-sensitive).
pub fn domain_matches(pattern: &str, domain: &str) -> bool {
    let domain = domain.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            domain.len() > suffix.len() + 1
                && domain
                    .get(domain.len() - suffix.len() - 1..)
                    .is_some_and(|tail| tail.starts_with('.') && tail[1..].eq_ignore_ascii_case(suffix))
        }
        None => pattern.eq_ignore_ascii_case(domain),
    }
}

/// The next hop for `domain`: the first route that lists it, else MX.
pub fn next_hop(routes: &[Route], domain: &str) -> NextHop {
    routes
        .iter()
        .position(|route| route.domains.iter().any(|p| domain_matches(p, domain)))
        .map(NextHop::Route)
        .unwrap_or_else(|| NextHop::Mx(domain.trim_end_matches('.').to_ascii_lowercase()))
}

/// The TLS policy of a hop: a route's own, opportunistic for MX destinations.
pub fn tls_mode(routes: &[Route], hop: &NextHop) -> TlsMode {
    match hop {
        NextHop::Route(index) => routes.get(*index).map_or(TlsMode::Opportunistic, |r| r.tls),
        NextHop::Mx(_) => TlsMode::Opportunistic,
    }
}

/// Splits `host:port` (`[v6]:port` for IPv6 literals) into its parts.
pub fn split_host_port(next_hop: &str) -> Option<(&str, u16)> {
    let (host, port) = next_hop.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = port.parse().ok()?;
    (!host.is_empty()).then_some((host, port))
}

/// The domain of an address (`local@domain`), or `None` for a null or bare path.
pub fn domain_of(address: &str) -> Option<&str> {
    address.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_patterns() {
        let table = [
            ("bacninh.gov.vn", "bacninh.gov.vn", true),
            ("bacninh.gov.vn", "BacNinh.Gov.VN", true),
            ("bacninh.gov.vn", "bacninh.gov.vn.", true),
            ("bacninh.gov.vn", "x.bacninh.gov.vn", false),
            ("*.thanhhoa.gov.vn", "sttt.thanhhoa.gov.vn", true),
            ("*.thanhhoa.gov.vn", "a.b.thanhhoa.gov.vn", true),
            ("*.thanhhoa.gov.vn", "thanhhoa.gov.vn", false),
            ("*.thanhhoa.gov.vn", "xthanhhoa.gov.vn", false),
            ("*.thanhhoa.gov.vn", ".thanhhoa.gov.vn", false),
            ("*.vn", "é.vn", true),
        ];
        for (pattern, domain, expected) in table {
            assert_eq!(domain_matches(pattern, domain), expected, "{pattern} vs {domain}");
        }
    }

    #[test]
    fn first_matching_route_wins_else_mx() {
        let route = |domains: &[&str], hop: &str| Route {
            domains: domains.iter().map(|d| d.to_string()).collect(),
            next_hop: hop.into(),
            tls: TlsMode::Required,
            ca_file: None,
            auth_user: None,
            auth_password_file: None,
        };
        let routes = [route(&["*.a.vn"], "x:25"), route(&["b.vn", "c.a.vn"], "y:25")];
        assert_eq!(next_hop(&routes, "c.a.vn"), NextHop::Route(0));
        assert_eq!(next_hop(&routes, "B.vn"), NextHop::Route(1));
        assert_eq!(next_hop(&routes, "Gmail.com"), NextHop::Mx("gmail.com".into()));
        assert_eq!(tls_mode(&routes, &NextHop::Route(1)), TlsMode::Required);
        assert_eq!(
            tls_mode(&routes, &NextHop::Mx("x".into())),
            TlsMode::Opportunistic
        );
    }

    #[test]
    fn host_port_split() {
        let table = [
            ("relay.wan:25", Some(("relay.wan", 25))),
            ("127.0.0.1:2525", Some(("127.0.0.1", 2525))),
            ("[::1]:25", Some(("::1", 25))),
            ("relay.wan", None),
            (":25", None),
            ("host:99999", None),
        ];
        for (input, expected) in table {
            assert_eq!(split_host_port(input), expected, "{input}");
        }
    }
}
