//! Properties of the parser over generated input: no input panics, every non-empty line gives
//! exactly one document, and the fast plan never disagrees with the whole-line regex.

use albingest::format::LogFormat;
use albingest::object_key::ObjectInfo;
use albingest::parse::Parser;
use albingest::pipeline::ReadError;
use albingest::pipeline::{for_each_document, ParseStats};
use proptest::prelude::*;

fn parser() -> &'static Parser {
    static PARSER: std::sync::OnceLock<Parser> = std::sync::OnceLock::new();
    PARSER.get_or_init(Parser::embedded)
}

/// A plausible ALB line of a random layout (18 to 36 tokens).
fn alb_line() -> impl Strategy<Value = String> {
    let ip = prop_oneof![
        (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        "[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7}",
        "[0-9a-f]{1,4}::[0-9a-f]{1,4}",
    ];
    let addr = prop_oneof![
        (ip.clone(), 0u32..65536).prop_map(|(ip, p)| format!("{ip}:{p}")),
        Just("-".to_string()),
    ];
    let secs = prop_oneof![
        Just("-1".to_string()),
        (0u32..100000).prop_map(|n| format!("{}.{:03}", n / 1000, n % 1000))
    ];
    let status = prop_oneof![
        Just("-".to_string()),
        (0u32..1000).prop_map(|n| format!("{n:03}"))
    ];
    let quoted = prop_oneof![
        Just("-".to_string()),
        Just(String::new()),
        r#"[ -!#-\[\]-~]{0,40}"#,
        r#"([a-z ]|\\x[0-9A-F]{2}|\\")*"#,
    ];
    let request = prop_oneof![
        Just("- - -".to_string()),
        Just("- http://h:80- -".to_string()),
        Just("- http://h:8080- ".to_string()),
        "(GET|POST|X) https?://[a-z.]{1,10}(:[0-9]{1,5})?(/[a-z ?=&]{0,20})? HTTP/(1\\.1|2\\.0)",
    ];
    let time = (0u32..86400, 0u32..1_000_000).prop_map(|(s, f)| {
        format!(
            "2026-11-01T{:02}:{:02}:{:02}.{f:06}Z",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    });
    (
        "(http|https|h2|grpcs|ws|wss)",
        time.clone(),
        addr.clone(),
        addr,
        (secs.clone(), secs.clone(), secs),
        (status.clone(), status),
        request,
        proptest::collection::vec(quoted, 20),
        time,
        18usize..=36,
    )
        .prop_map(|(kind, t, client, target, times, codes, request, q, created, n)| {
            let mut f: Vec<String> = vec![
                kind,
                t,
                "app/my-lb/50dc6c495c0c9188".into(),
                client,
                target.clone(),
                times.0,
                times.1,
                times.2,
                codes.0,
                codes.1.clone(),
                "100".into(),
                "200".into(),
                format!("\"{request}\""),
                format!("\"{}\"", q[0]),
                "ECDHE-RSA-AES128-GCM-SHA256".into(),
                "TLSv1.2".into(),
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/73e2d6bc24d8a067".into(),
                format!("\"{}\"", q[1]),
                format!("\"{}\"", q[2]),
                format!("\"{}\"", q[3]),
                "0".into(),
                created,
                format!("\"{}\"", q[4]),
                format!("\"{}\"", q[5]),
                format!("\"{}\"", q[6]),
                format!("\"{target}\""),
                format!("\"{}\"", codes.1),
                format!("\"{}\"", q[7]),
                format!("\"{}\"", q[8]),
                "TID_d7917035eabacb42bea251b01fb60ab4".into(),
                format!("\"{}\"", q[9]),
                format!("\"{}\"", q[10]),
                format!("\"{}\"", q[11]),
                "100.51.96.60".into(),
                format!("\"{}\"", q[12]),
                format!("\"{}\"", q[13]),
            ];
            f.truncate(n);
            f.join(" ")
        })
}

/// A line broken the way real data breaks: cut, quotes or escapes inserted, bytes replaced.
fn mutated(line: String, cut: usize, at: usize, what: u8) -> Vec<u8> {
    let mut b = line.into_bytes();
    let at = at % (b.len() + 1);
    let insert: Vec<u8> = match what % 6 {
        0 => {
            b.truncate(cut % (b.len() + 1));
            return b;
        }
        1 => b"\"".to_vec(),
        2 => b"\\x22".to_vec(),
        3 => vec![0xff, 0xfe],
        4 => b" extra \"field\"".to_vec(),
        _ => vec![b'A'; 9000],
    };
    b.splice(at..at, insert);
    b
}

fn documents(input: &[u8]) -> (u64, usize) {
    let object = ObjectInfo::local("prop.log");
    let mut count = 0;
    let mut stats = ParseStats::default();
    for_each_document(parser(), &object, input, &mut stats, |parsed, _| {
        let json = parsed.document.to_json();
        serde_json::from_slice::<serde_json::Value>(&json).expect("every document is valid JSON");
        count += 1;
        Ok::<_, ReadError>(())
    })
    .expect("in-memory input reads");
    (stats.documents, count)
}

fn non_empty_lines(input: &[u8]) -> usize {
    input
        .split(|b| *b == b'\n')
        .filter(|l| l.iter().any(|b| *b != b'\r'))
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
    ))]

    #[test]
    fn arbitrary_bytes_give_one_document_per_non_empty_line(input in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let (docs, seen) = documents(&input);
        prop_assert_eq!(docs as usize, non_empty_lines(&input));
        prop_assert_eq!(seen as u64, docs);
    }

    #[test]
    fn generated_lines_parse_without_failure(line in alb_line()) {
        let object = ObjectInfo::local("x_app.y.log");
        let mut scratch = parser().scratch();
        let parsed = parser().parse(&object, &line, 0, &mut scratch);
        prop_assert!(!parsed.failed, "{}\n{:?}", line, parsed.document.error);
    }

    #[test]
    fn mutated_lines_give_exactly_one_document_each(
        lines in proptest::collection::vec((alb_line(), any::<usize>(), any::<usize>(), any::<u8>()), 1..8)
    ) {
        let mut input = Vec::new();
        for (line, cut, at, what) in lines {
            input.extend(mutated(line, cut, at, what));
            input.push(b'\n');
        }
        let (docs, _) = documents(&input);
        prop_assert_eq!(docs as usize, non_empty_lines(&input));
    }

    #[test]
    fn plan_and_whole_line_regex_agree(line in alb_line(), cut in any::<usize>(), at in any::<usize>(), what in any::<u8>(), mutate in any::<bool>()) {
        let bytes = if mutate { mutated(line, cut, at, what) } else { line.into_bytes() };
        let pattern = parser().pattern(LogFormat::Alb);
        let (mut fast, mut reference) = (pattern.new_captures(), pattern.new_captures());
        let fast_ok = pattern.match_line(&bytes, &mut fast).is_ok();
        let reference_ok = pattern.match_regex(&bytes, &mut reference);
        prop_assert_eq!(fast_ok, reference_ok);
        if fast_ok {
            for slot in 0..pattern.fields().len() {
                prop_assert_eq!(fast.span(slot), reference.span(slot), "field {}", pattern.fields()[slot].name);
            }
        }
    }
}
