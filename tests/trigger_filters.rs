//! The deploy filters let every load balancer log object reach the ingest function, and nothing
//! else in the bucket: the S3 notification filters (trigger modes `s3-notification` and `sqs`)
//! and the EventBridge rule (mode `eventbridge`) of both the SAM template and the Terraform
//! module are read from `deploy/` and evaluated, as AWS evaluates them, against real key shapes.
//!
//! How AWS matches:
//! - S3 notifications: a configuration has at most one `prefix` and one `suffix` rule; a key
//!   matches when it starts with the prefix and ends with the suffix. Two configurations for the
//!   same event type whose prefixes and suffixes overlap are refused ("Configuring event
//!   notifications using object key name filtering", Amazon S3 user guide; FilterRule in the
//!   Amazon S3 API reference: "Overlapping prefixes and suffixes are not supported").
//! - EventBridge: the values listed for a field are alternatives; `{"wildcard": "…"}` matches
//!   the whole value, `*` standing for any run of characters, `/` included ("Content filtering
//!   in Amazon EventBridge event patterns", Amazon EventBridge user guide).
//!
//! The SAM template and the Terraform files are read as text (no YAML/HCL dependency): the test
//! first checks that the filter expressions have the shape it knows, then evaluates them.

use albingest::format::LogFormat;
use regex::Regex;

const SAM_TEMPLATE: &str = "deploy/sam/template.yaml";
const TF_TRIGGERS: &str = "deploy/terraform/triggers.tf";

fn read(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One S3 notification configuration: `(prefix, suffix)`, `None` for no rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct S3Filter {
    prefix: Option<String>,
    suffix: Option<String>,
}

impl S3Filter {
    fn matches(&self, key: &str) -> bool {
        self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| key.ends_with(s))
    }

    /// S3's overlap rule: both the prefixes and the suffixes overlap (one starts, or ends, with
    /// the other; an absent rule overlaps everything).
    fn overlaps(&self, other: &S3Filter) -> bool {
        let prefixes = match (&self.prefix, &other.prefix) {
            (Some(a), Some(b)) => a.starts_with(b.as_str()) || b.starts_with(a.as_str()),
            _ => true,
        };
        let suffixes = match (&self.suffix, &other.suffix) {
            (Some(a), Some(b)) => a.ends_with(b.as_str()) || b.ends_with(a.as_str()),
            _ => true,
        };
        prefixes && suffixes
    }
}

/// EventBridge wildcard matching over the whole value (`*`: any run of characters).
fn wildcard_matches(pattern: &str, value: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return value == pattern;
    }
    if !value.starts_with(first) || value.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &value[first.len()..value.len() - last.len()];
    if !value.ends_with(last) {
        return false;
    }
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn the_evaluators_follow_aws() {
    let f = |prefix: Option<&str>, suffix: Option<&str>| S3Filter {
        prefix: prefix.map(str::to_string),
        suffix: suffix.map(str::to_string),
    };
    assert!(f(Some("a/"), Some(".log")).matches("a/b.log"));
    assert!(!f(Some("a/"), Some(".log")).matches("a/b.log.gz"));
    assert!(!f(Some("a/"), Some(".log")).matches("b/a/b.log"));
    // AWS's own examples of overlap: the same suffix, or one suffix ending the other.
    assert!(f(None, Some(".jpg")).overlaps(&f(Some("images/"), Some(".jpg"))));
    assert!(f(None, Some("image.jpg")).overlaps(&f(None, Some(".jpg"))));
    assert!(!f(None, Some(".log")).overlaps(&f(None, Some(".log.gz"))));
    assert!(!f(Some("a/"), None).overlaps(&f(Some("b/"), None)));

    assert!(wildcard_matches("lb/*.log", "lb/x/y/z.log"));
    assert!(!wildcard_matches("lb/*.log", "lb/x/y/z.log.gz"));
    assert!(wildcard_matches("*.log.gz", "a.log.gz"));
    assert!(!wildcard_matches("lb/*.log", "lb.log"));
    assert!(wildcard_matches("a*b*c", "aXbYc"));
    assert!(!wildcard_matches("a*b*c", "aXcYb"));
}

// ------------------------------------------------------------------ the keys

const ACCOUNT_DIR: &str = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/09/10/";
const HIVE_DIR: &str = "AWSLogs/aws-account-id=123456789012/elasticloadbalancing/region=us-east-2/year=2026/month=09/day=10/";

/// What a key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A load balancer log: must reach the function.
    Log,
    /// Anything else: must not.
    Other,
    /// Another service's log with a load balancer log's suffix (VPC flow logs are `.log.gz`):
    /// a prefix/suffix filter cannot tell it apart, so S3 notifications deliver it and the
    /// function skips it by name; the EventBridge rule, which can look at the name, must not.
    OtherWithLogSuffix,
}

/// Keys as they appear under the load balancer's own prefix (`lb/` here), and what they are.
fn key_shapes() -> Vec<(String, Shape)> {
    let mut keys = Vec::new();
    for dir in [
        ACCOUNT_DIR.to_string(),
        HIVE_DIR.to_string(),
        format!("AWSLogs/o-a1b2c3d4e5/{}", &ACCOUNT_DIR["AWSLogs/".len()..]),
    ] {
        for file in [
            // ALB access log (the example of "Access logs for your Application Load Balancer")
            "123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20260910T0005Z_172.160.001.192_20sg8hgm.log.gz",
            // ALB connection log
            "conn_log_123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20260910T0005Z_172.160.001.192_20sg8hgm.log.gz",
            // ALB health check log
            "health_check_log_123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20260910T0005Z_172.160.001.192_20sg8hgm.log.gz",
            // NLB access log (no node IP)
            "123456789012_elasticloadbalancing_us-east-2_net.my-nlb.1234567890abcdef_20260910T0005Z_20sg8hgm.log.gz",
            // Classic: plain text
            "123456789012_elasticloadbalancing_us-east-2_my-clb_20260910T0005Z_172.160.001.192_20sg8hgm.log",
        ] {
            keys.push((format!("lb/{dir}{file}"), Shape::Log));
        }
    }
    for other in [
        // written by the load balancer when logging is turned on: no log
        "lb/AWSLogs/123456789012/ELBAccessLogTestFile",
        // a folder placeholder made by the console
        &format!("lb/{ACCOUNT_DIR}"),
        // other services' logs in a shared bucket
        "lb/AWSLogs/123456789012/CloudTrail/us-east-2/2026/09/10/123456789012_CloudTrail_us-east-2_20260910T0005Z_abcdefgh.json.gz",
        "lb/AWSLogs/123456789012/vpcflowlogs/us-east-2/2026/09/10/123456789012_vpcflowlogs_us-east-2_fl-1234abcd_20260910T0005Z_hash.log.parquet",
        // albingest's own dead letters
        "albingest-dead-letter/2026/09/10/object-1.ndjson",
    ] {
        keys.push((other.to_string(), Shape::Other));
    }
    keys.push((
        "lb/AWSLogs/123456789012/vpcflowlogs/us-east-2/2026/09/10/123456789012_vpcflowlogs_us-east-2_fl-1234abcd_20260910T0005Z_hash.log.gz".to_string(),
        Shape::OtherWithLogSuffix,
    ));
    keys
}

/// Log prefixes a deployment may be given (`LogPrefix` / `log_prefix`).
const LOG_PREFIXES: [&str; 3] = ["", "lb/", "lb/AWSLogs/"];

/// How much of a key a filter can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sees {
    /// Prefix and suffix only (S3 notifications).
    PrefixAndSuffix,
    /// The whole key (EventBridge wildcards).
    WholeKey,
}

/// Every key is judged by the deploy filter exactly as it should be: a load balancer log under
/// the log prefix invokes, anything else does not (but see [`Shape::OtherWithLogSuffix`]).
fn check_invocations(what: &str, prefix: &str, sees: Sees, invokes: impl Fn(&str) -> bool) {
    let mut wrong = Vec::new();
    for (key, shape) in key_shapes() {
        let delivered = match shape {
            Shape::Log => true,
            Shape::Other => false,
            Shape::OtherWithLogSuffix => sees == Sees::PrefixAndSuffix,
        };
        let want = delivered && key.starts_with(prefix);
        if invokes(&key) != want {
            wrong.push(format!(
                "  {key}: {}",
                if want { "not delivered" } else { "delivered" }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{what} with log prefix {prefix:?}:\n{}",
        wrong.join("\n")
    );
}

/// The function's own name rule agrees with the keys the filters deliver: every log object
/// has a format, the rest (`ELBAccessLogTestFile`, other services' logs) is skipped.
#[test]
fn the_function_knows_every_delivered_name() {
    for (key, shape) in key_shapes() {
        assert_eq!(
            LogFormat::from_object_name(&key).is_some(),
            shape == Shape::Log,
            "{key}"
        );
    }
    assert_eq!(
        LogFormat::from_object_name("lb/AWSLogs/123456789012/ELBAccessLogTestFile"),
        None
    );
}

// ------------------------------------------------------------------ SAM

/// The lines of a top-level resource of the SAM template.
fn sam_resource<'t>(template: &'t str, name: &str) -> Vec<&'t str> {
    let header = format!("  {name}:");
    let mut lines = template.lines().skip_while(|l| *l != header);
    assert!(lines.next().is_some(), "{SAM_TEMPLATE}: no resource {name}");
    lines
        .take_while(|l| l.trim().is_empty() || l.starts_with("   "))
        .collect()
}

/// The S3 filters of `LambdaConfigurations` or `QueueConfigurations` of the log bucket, for
/// the log prefix `prefix` (the template's `HasLogPrefix` branch when it is not empty).
fn sam_s3_filters(template: &str, configurations: &str, prefix: &str) -> Vec<S3Filter> {
    let bucket = sam_resource(template, "LogBucket");
    let start = bucket
        .iter()
        .position(|l| l.trim() == format!("{configurations}: !If"))
        .unwrap_or_else(|| panic!("LogBucket has no {configurations}"));
    let base = bucket[start].len() - bucket[start].trim_start().len();
    let body: Vec<&str> = bucket[start + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > base)
        .copied()
        .collect();
    let rules_line = Regex::new(r"^- \[(.*)\]$").unwrap();
    let rule = Regex::new(r"\{ Name: (prefix|suffix), Value: ([^}]+?) \}").unwrap();
    let mut filters = Vec::new();
    let mut configuration: Vec<&str> = Vec::new();
    let mut flush = |configuration: &mut Vec<&str>| {
        if configuration.is_empty() {
            return;
        }
        assert!(
            configuration.iter().any(|l| l.trim() == "- HasLogPrefix"),
            "{configurations}: the rules are chosen by HasLogPrefix: {configuration:#?}"
        );
        let branches: Vec<&str> = configuration
            .iter()
            .filter_map(|l| rules_line.captures(l.trim()))
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        assert_eq!(branches.len(), 2, "{configurations}: {configuration:#?}");
        let chosen = if prefix.is_empty() {
            branches[1]
        } else {
            branches[0]
        };
        let mut filter = S3Filter {
            prefix: None,
            suffix: None,
        };
        for c in rule.captures_iter(chosen) {
            let value = match &c[2] {
                "!Ref LogPrefix" => prefix.to_string(),
                v => v.to_string(),
            };
            match &c[1] {
                "prefix" => filter.prefix = Some(value),
                _ => filter.suffix = Some(value),
            }
        }
        filters.push(filter);
        configuration.clear();
    };
    let mut started = false;
    for line in body {
        let t = line.trim_start();
        if t.starts_with("- - Event:") || t.starts_with("- Event:") {
            flush(&mut configuration);
            started = true;
        }
        if t == "- !Ref \"AWS::NoValue\"" {
            break;
        }
        if started {
            configuration.push(line);
        }
    }
    flush(&mut configuration);
    assert!(!filters.is_empty(), "{configurations}: no configuration");
    filters
}

/// The wildcard patterns of the EventBridge rule's `detail.object.key`, for `prefix`.
fn sam_key_wildcards(template: &str, prefix: &str) -> Vec<String> {
    let rule = sam_resource(template, "IngestEventRule");
    let wildcard = Regex::new(r#"^- wildcard: !Sub "(.*)"$"#).unwrap();
    let patterns: Vec<String> = rule
        .iter()
        .filter_map(|l| wildcard.captures(l.trim()))
        .map(|c| c[1].replace("${LogPrefix}", prefix))
        .collect();
    assert!(!patterns.is_empty(), "IngestEventRule: no key wildcard");
    assert!(
        rule.iter()
            .any(|l| l.trim() == "detail-type: [Object Created]"),
        "IngestEventRule: Object Created events"
    );
    patterns
}

fn assert_no_overlap(what: &str, filters: &[S3Filter]) {
    for (i, a) in filters.iter().enumerate() {
        for b in &filters[i + 1..] {
            assert!(
                !a.overlaps(b),
                "{what}: S3 refuses overlapping filters {a:?} and {b:?}"
            );
        }
    }
}

#[test]
fn sam_s3_and_sqs_notifications_deliver_every_log_object_and_nothing_else() {
    let template = read(SAM_TEMPLATE);
    for configurations in ["LambdaConfigurations", "QueueConfigurations"] {
        for prefix in LOG_PREFIXES {
            let filters = sam_s3_filters(&template, configurations, prefix);
            assert_no_overlap(configurations, &filters);
            check_invocations(
                &format!("SAM {configurations}"),
                prefix,
                Sees::PrefixAndSuffix,
                |key| filters.iter().any(|f| f.matches(key)),
            );
        }
    }
}

#[test]
fn sam_eventbridge_rule_delivers_every_log_object_and_nothing_else() {
    let template = read(SAM_TEMPLATE);
    for prefix in LOG_PREFIXES {
        let patterns = sam_key_wildcards(&template, prefix);
        check_invocations("SAM IngestEventRule", prefix, Sees::WholeKey, |key| {
            patterns.iter().any(|p| wildcard_matches(p, key))
        });
    }
}

// ------------------------------------------------------------------ Terraform

/// `name = [ "a", "b" ]` in the Terraform text: the strings.
fn tf_string_list(text: &str, name: &str) -> Vec<String> {
    let line = Regex::new(&format!(r"(?m)^\s*{name}\s*=\s*\[(.*)\]\s*$")).unwrap();
    let items = line
        .captures(text)
        .unwrap_or_else(|| panic!("{TF_TRIGGERS}: no list {name}"))[1]
        .to_string();
    Regex::new(r#""([^"]*)""#)
        .unwrap()
        .captures_iter(&items)
        .map(|c| c[1].to_string())
        .collect()
}

/// The body of `dynamic "NAME" { … }` (up to its closing brace at the same indent).
fn tf_block<'t>(text: &'t str, header: &str) -> Vec<&'t str> {
    let mut lines = text.lines().skip_while(|l| l.trim() != header);
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("{TF_TRIGGERS}: no {header}"));
    let indent = first.len() - first.trim_start().len();
    lines
        .take_while(|l| !(l.trim() == "}" && l.len() - l.trim_start().len() == indent))
        .collect()
}

fn has_line(block: &[&str], expected: &str) -> bool {
    let normal = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    block.iter().any(|l| normal(l) == normal(expected))
}

/// The Terraform notification blocks: one configuration per element of
/// `local.log_object_suffixes`, each with `filter_prefix = local.s3_key_filter_prefix`
/// (`null`, that is no rule, for an empty `log_prefix`).
fn tf_s3_filters(text: &str, block: &str, mode: &str, prefix: &str) -> Vec<S3Filter> {
    let body = tf_block(text, &format!("dynamic \"{block}\" {{"));
    for expected in [
        format!("for_each = local.{mode} ? local.log_object_suffixes : []"),
        "filter_prefix = local.s3_key_filter_prefix".to_string(),
        format!("filter_suffix = {block}.value"),
        "events = [\"s3:ObjectCreated:*\"]".to_string(),
    ] {
        assert!(
            has_line(&body, &expected),
            "{TF_TRIGGERS}: dynamic \"{block}\" has no `{expected}`: {body:#?}"
        );
    }
    assert!(
        has_line(
            &text.lines().collect::<Vec<_>>(),
            "s3_key_filter_prefix = var.log_prefix == \"\" ? null : var.log_prefix"
        ),
        "{TF_TRIGGERS}: s3_key_filter_prefix"
    );
    tf_string_list(text, "log_object_suffixes")
        .into_iter()
        .map(|suffix| S3Filter {
            prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
            suffix: Some(suffix),
        })
        .collect()
}

#[test]
fn terraform_s3_and_sqs_notifications_deliver_every_log_object_and_nothing_else() {
    let text = read(TF_TRIGGERS);
    for (block, mode) in [("lambda_function", "use_s3"), ("queue", "use_sqs")] {
        for prefix in LOG_PREFIXES {
            let filters = tf_s3_filters(&text, block, mode, prefix);
            assert_no_overlap(block, &filters);
            check_invocations(
                &format!("Terraform {block}"),
                prefix,
                Sees::PrefixAndSuffix,
                |key| filters.iter().any(|f| f.matches(key)),
            );
        }
    }
}

#[test]
fn terraform_eventbridge_rule_delivers_every_log_object_and_nothing_else() {
    let text = read(TF_TRIGGERS);
    let expression = r#"object = { key = [for suffix in local.log_object_suffixes : { wildcard = "${var.log_prefix}*_elasticloadbalancing_*${suffix}" }] }"#;
    assert!(
        has_line(&text.lines().collect::<Vec<_>>(), expression),
        "{TF_TRIGGERS}: the event rule's key filter is not `{expression}`"
    );
    let suffixes = tf_string_list(&text, "log_object_suffixes");
    for prefix in LOG_PREFIXES {
        let patterns: Vec<String> = suffixes
            .iter()
            .map(|s| format!("{prefix}*_elasticloadbalancing_*{s}"))
            .collect();
        check_invocations(
            "Terraform aws_cloudwatch_event_rule",
            prefix,
            Sees::WholeKey,
            |key| patterns.iter().any(|p| wildcard_matches(p, key)),
        );
    }
}
