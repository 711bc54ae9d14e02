//! Pieces shared by the HTTP formats (ALB and Classic ELB): the request line, the URL, TLS names.

use crate::document::{Bytes, Document, Http, HttpRequest, HttpResponse, Tls, Url};

/// The parts of `"METHOD URL PROTOCOL"`. Method = up to the first space, protocol = after the
/// last space, URL = what is between (URLs may hold spaces). A trailing space is dropped first;
/// with only two parts the second is the URL (`"- http://host:80- "`: no protocol logged).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Request<'a> {
    pub method: Option<&'a str>,
    pub url: Option<&'a str>,
    pub protocol: Option<&'a str>,
}

pub(super) fn split_request(request: &str) -> Request<'_> {
    let text = request.trim_end_matches(' ');
    let dash = |s: &'_ str| -> bool { s == "-" || s.is_empty() };
    let keep = |s| (!dash(s)).then_some(s);
    let Some((method, rest)) = text.split_once(' ') else {
        return Request {
            method: keep(text),
            ..Request::default()
        };
    };
    let (url, protocol) = match rest.rsplit_once(' ') {
        Some((url, protocol)) => (url, Some(protocol)),
        None => (rest, None),
    };
    Request {
        method: keep(method),
        url: keep(url),
        protocol: protocol.and_then(keep),
    }
}

/// Fills `url.*` and `http.*` from the request line, status and byte counts; returns whether
/// the request line held a method or URL (Classic TCP listeners log `"- - - "`).
pub(super) fn fill_http<'a>(
    doc: &mut Document<'a>,
    request: Option<&'a str>,
    status: Option<i64>,
    received: Option<i64>,
    sent: Option<i64>,
) -> bool {
    let request = request.map(split_request).unwrap_or_default();
    doc.url = request.url.map(url);
    let http_request = (request.method.is_some() || received.is_some()).then(|| HttpRequest {
        method: request.method,
        body: received.map(|bytes| Bytes { bytes }),
    });
    let response = (status.is_some() || sent.is_some()).then(|| HttpResponse {
        status_code: status,
        body: sent.map(|bytes| Bytes { bytes }),
    });
    let version = request
        .protocol
        .map(|p| p.strip_prefix("HTTP/").unwrap_or(p));
    if http_request.is_some() || response.is_some() || version.is_some() {
        doc.http = Some(Http {
            request: http_request,
            response,
            version,
        });
    }
    // `000` (no response sent) is no success either.
    doc.event.outcome = status.map(|s| {
        if (100..400).contains(&s) {
            "success"
        } else {
            "failure"
        }
    });
    request.method.is_some() || request.url.is_some()
}

/// Splits a logged URL (`scheme://host[:port][/path][?query]`, as the client sent it).
pub(super) fn url(original: &str) -> Url<'_> {
    let mut url = Url {
        original,
        ..Url::default()
    };
    // The first `://`, found as a `:` followed by `//`: `split_once("://")` builds a substring
    // searcher for each line.
    let bytes = original.as_bytes();
    let scheme_end = memchr::memchr_iter(b':', bytes).find(|at| bytes[at + 1..].starts_with(b"//"));
    let Some((scheme, rest)) = scheme_end.map(|at| (&original[..at], &original[at + 3..])) else {
        // Origin-form (`/path?q`) or something else: only what is certain.
        if original.starts_with('/') {
            let (path, query) = split_query(original);
            url.path = Some(path);
            url.query = query;
        }
        return url;
    };
    url.scheme = Some(scheme);
    let authority_end = memchr::memchr2(b'/', b'?', rest.as_bytes()).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (host, port_part) = match authority.strip_prefix('[') {
        // `[v6]:port`
        Some(bracketed) => match bracketed.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => (bracketed, None),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    url.domain = Some(host).filter(|h| !h.is_empty());
    if let Some(port) = port_part {
        // `host:80-` is how ALB logs a request it could not parse: the port, then a dash.
        let digits = port.trim_end_matches('-');
        url.port = digits.parse().ok();
    }
    if !tail.is_empty() {
        let (path, query) = split_query(tail);
        url.path = Some(path).filter(|p| !p.is_empty());
        url.query = query;
    }
    url
}

fn split_query(text: &str) -> (&str, Option<&str>) {
    match text.split_once('?') {
        Some((path, query)) => (path, Some(query).filter(|q| !q.is_empty())),
        None => (text, None),
    }
}

/// `TLSv1.2` → `1.2`, NLB's `tlsv12` → `1.2`.
pub(super) fn tls<'a>(cipher: Option<&'a str>, protocol: Option<&str>) -> Option<Tls<'a>> {
    let version = protocol.and_then(tls_version);
    (cipher.is_some() || version.is_some()).then_some(Tls {
        cipher,
        version,
        version_protocol: version.map(|_| "tls"),
    })
}

fn tls_version(protocol: &str) -> Option<&'static str> {
    // Case-insensitive prefix without a lowercased copy (this runs once a line).
    let strip = |prefix: &str| {
        protocol
            .get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))
            .map(|_| &protocol[prefix.len()..])
    };
    let v = strip("tlsv").or_else(|| strip("tls"))?;
    Some(match v {
        "1" | "1.0" | "10" => "1.0",
        "1.1" | "11" => "1.1",
        "1.2" | "12" => "1.2",
        "1.3" | "13" => "1.3",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_ends_at_the_first_colon_slash_slash() {
        for original in [
            "https://a.example:443/x?y",
            "/path:x://y",
            "a:b://c/d",
            "http:/x",
            "://x",
            "x:",
            "x:/",
            "h://",
        ] {
            let expected = original.split_once("://").map(|(scheme, _)| scheme);
            assert_eq!(url(original).scheme, expected, "{original:?}");
        }
    }

    #[test]
    fn request_lines_of_every_shape() {
        let r = split_request("GET https://www.example.com:443/a b?c HTTP/1.1");
        assert_eq!(
            (r.method, r.url, r.protocol),
            (
                Some("GET"),
                Some("https://www.example.com:443/a b?c"),
                Some("HTTP/1.1")
            )
        );
        let r = split_request("- http://host:80- -");
        assert_eq!(
            (r.method, r.url, r.protocol),
            (None, Some("http://host:80-"), None)
        );
        let r = split_request("- http://host:8080- ");
        assert_eq!(
            (r.method, r.url, r.protocol),
            (None, Some("http://host:8080-"), None)
        );
        let r = split_request("GET http://host:80/ HTTP/1.0 ");
        assert_eq!(
            (r.method, r.url, r.protocol),
            (Some("GET"), Some("http://host:80/"), Some("HTTP/1.0"))
        );
        assert_eq!(split_request("- - -"), Request::default());
        assert_eq!(split_request("- - - "), Request::default());
        assert_eq!(split_request(""), Request::default());
    }

    #[test]
    fn urls_split_into_parts() {
        let u = url("https://www.example.com:443/p/q.json?x=1&y=2");
        assert_eq!(
            (u.scheme, u.domain, u.port, u.path, u.query),
            (
                Some("https"),
                Some("www.example.com"),
                Some(443),
                Some("/p/q.json"),
                Some("x=1&y=2")
            )
        );
        let u = url("https://example.com");
        assert_eq!(
            (u.domain, u.port, u.path),
            (Some("example.com"), None, None)
        );
        let u = url("http://internal-service-alb.example.com:80-/");
        assert_eq!(
            (u.domain, u.port, u.path),
            (
                Some("internal-service-alb.example.com"),
                Some(80),
                Some("/")
            )
        );
        let u = url("http://[2001:db8::1]:8080/x");
        assert_eq!(
            (u.domain, u.port, u.path),
            (Some("2001:db8::1"), Some(8080), Some("/x"))
        );
        let u = url("http://host:80-");
        assert_eq!((u.domain, u.port, u.path), (Some("host"), Some(80), None));
        let u = url("http://[::1]/");
        assert_eq!((u.domain, u.port, u.path), (Some("::1"), None, Some("/")));
        let u = url("*");
        assert_eq!((u.scheme, u.domain, u.path), (None, None, None));
    }

    #[test]
    fn tls_versions() {
        assert_eq!(tls_version("TLSv1.2"), Some("1.2"));
        assert_eq!(tls_version("TLSv1"), Some("1.0"));
        assert_eq!(tls_version("tlsv13"), Some("1.3"));
        assert_eq!(tls_version("SSLv3"), None);
    }
}
