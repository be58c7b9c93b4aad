//! The client's IP address, which limits hold per, also behind proxies.
//!
//! `X-Forwarded-For` is a list every proxy appends to; anything left of the last proxy we
//! trust was written by whoever sent the request, so the leftmost entry is the one a client
//! chooses freely. The client is therefore the rightmost hop that is not one of
//! `--trusted-proxies`, and only when the peer itself is trusted is the header read at all.
//! Without trusted proxies the peer address is the client.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};
use ipnet::IpNet;
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;

/// The proxies whose `X-Forwarded-For` entries are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        TrustedProxies(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that arrived from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // Every X-Forwarded-For header, in order, as one list.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                // Past an entry we cannot read, nothing further left can be believed.
                None => return client,
                Some(ip) if !self.trusts(ip) => return ip,
                Some(ip) => client = ip,
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`[::1]:80`, `1.2.3.4:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The peer address the server recorded for a request.
pub fn peer_of<T>(request: &Request<T>) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// tower_governor's key: the client IP by [`TrustedProxies`].
#[derive(Debug, Clone)]
pub struct ClientIpKey(pub TrustedProxies);

impl KeyExtractor for ClientIpKey {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        let peer = peer_of(req).ok_or(GovernorError::UnableToExtractKey)?;
        Ok(self.0.client_ip(peer, req.headers()))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let none = TrustedProxies::default();
        let h = forwarded(&["198.51.100.9"]);
        assert_eq!(none.client_ip(ip("203.0.113.5"), &h), ip("203.0.113.5"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client_never_the_leftmost() {
        let proxies = TrustedProxies::new(vec![crate::rules::proxy_network("10.0.0.0/8").unwrap()]);
        let peer = ip("10.0.0.2");
        // The client wrote "1.1.1.1" itself; the ingress appended the address it saw.
        let h = forwarded(&["1.1.1.1, 203.0.113.7", "10.0.0.9"]);
        assert_eq!(proxies.client_ip(peer, &h), ip("203.0.113.7"));
        // Only trusted hops: the leftmost of them.
        let h = forwarded(&["10.1.1.1, 10.0.0.9"]);
        assert_eq!(proxies.client_ip(peer, &h), ip("10.1.1.1"));
        // No header: the (trusted) peer.
        assert_eq!(proxies.client_ip(peer, &HeaderMap::new()), peer);
        // An unreadable entry stops the walk at the hop right of it.
        let h = forwarded(&["203.0.113.7, garbage, 10.0.0.9"]);
        assert_eq!(proxies.client_ip(peer, &h), ip("10.0.0.9"));
        // A peer outside the trusted networks: its header is ignored.
        let h = forwarded(&["203.0.113.7"]);
        assert_eq!(proxies.client_ip(ip("192.0.2.1"), &h), ip("192.0.2.1"));
    }

    #[test]
    fn ports_and_mapped_addresses_are_understood() {
        let proxies = TrustedProxies::new(vec![crate::rules::proxy_network("127.0.0.1").unwrap()]);
        let h = forwarded(&["[2001:db8::1]:443"]);
        assert_eq!(
            proxies.client_ip(ip("::ffff:127.0.0.1"), &h),
            ip("2001:db8::1")
        );
        assert!(crate::rules::proxy_network("10.0.0.0/33").is_err());
        assert!(
            crate::rules::proxy_network("nope")
                .unwrap_err()
                .contains("CIDR")
        );
    }
}
