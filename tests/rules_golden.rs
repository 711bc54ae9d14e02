//! Golden test of the configuration's rules through `albingest parse --bulk --config`:
//! `tests/fixtures/rules/input.log` with `rules.toml` gives, line by line, what
//! `expected.ndjson` says (written from the rules by hand, not copied from the output): the
//! index (routing), labels, tags, the truncated client address and the redacted query — or that
//! the line was dropped. The summary counts the dropped lines.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rules");

/// A dotted field of a document (`source.ip`), `Null` when absent.
fn field<'a>(document: &'a Value, dotted: &str) -> &'a Value {
    dotted.split('.').fold(document, |value, name| {
        value.get(name).unwrap_or(&Value::Null)
    })
}

#[test]
fn every_rule_gives_the_documents_the_fixture_expects() {
    let input = format!("{DIR}/input.log");
    let out = Command::new(env!("CARGO_BIN_EXE_albingest"))
        .args([
            "parse",
            "--bulk",
            "--config",
            &format!("{DIR}/rules.toml"),
            &input,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("7 lines, 4 documents, 1 failure (alb=4), 3 dropped"),
        "{stderr}"
    );

    // Line numbers by byte offset of the input.
    let text = std::fs::read_to_string(&input).unwrap();
    let mut line_at = BTreeMap::new();
    let mut offset = 0u64;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        line_at.insert(offset, i as u64 + 1);
        offset += line.len() as u64;
    }
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let mut got = BTreeMap::new();
    for pair in lines.chunks(2) {
        let action: Value = serde_json::from_str(pair[0]).unwrap();
        let document: Value = serde_json::from_str(pair[1]).unwrap();
        let line = line_at[&document["log"]["offset"].as_u64().unwrap()];
        got.insert(line, (action["create"]["_index"].clone(), document));
    }

    let expected = std::fs::read_to_string(format!("{DIR}/expected.ndjson")).unwrap();
    let mut problems = Vec::new();
    for want in expected
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
    {
        let line = want["line"].as_u64().unwrap();
        let got = got.get(&line);
        if want["dropped"] == true {
            if got.is_some() {
                problems.push(format!("line {line}: should be dropped"));
            }
            continue;
        }
        let Some((index, document)) = got else {
            problems.push(format!("line {line}: dropped, should be kept"));
            continue;
        };
        for (name, value) in want.as_object().unwrap() {
            let actual = match name.as_str() {
                "line" => continue,
                "index" => index,
                dotted => field(document, dotted),
            };
            if actual != value {
                problems.push(format!("line {line}: {name}: {actual} (expected {value})"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
