//! `albingest parse`: documents to stdout as NDJSON (or `_bulk` pairs), a summary to stderr.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::bulk::{write_action, IndexPrefixes, ObjectHash};
use crate::decompress::decode;
use crate::json;
use crate::object_key::ObjectInfo;
use crate::parse::Parser;
use crate::pipeline::{for_each_document, ParseStats, ReadError};

use super::ParseOptions;

#[derive(Debug, Args)]
#[command(
    after_help = "Each non-empty input line gives exactly one JSON document, in input order; \
a line that does not parse gives a failure document (event.kind \"pipeline_error\", error.message \
naming the field). Exit status: 0 when every input was read (failure documents included), 1 when an \
input could not be read."
)]
pub struct ParseArgs {
    /// Files to read, plain or gzip (sniffed); `-` or nothing reads standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Write `_bulk` request lines: a `create` action (with `_index` and `_id`) before each
    /// document.
    #[arg(long)]
    pub bulk: bool,

    #[command(flatten)]
    pub options: ParseOptions,
}

#[derive(Debug, thiserror::Error)]
enum ParseError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("writing to standard output: {0}")]
    Write(#[from] io::Error),
}

pub fn run(args: ParseArgs) -> Result<ExitCode, String> {
    let parser = args.options.parser()?;
    let prefixes = args.options.index_prefixes()?;
    let files = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files
    };
    let stdout = io::stdout();
    // Documents are gathered in 64 KB blocks before each write: no second buffer needed.
    let mut out = stdout.lock();
    let mut total = ParseStats::default();
    let mut failed_inputs = 0;
    for path in &files {
        match parse_file(&parser, &prefixes, path, args.bulk, &mut out) {
            Ok(stats) => total.add(&stats),
            Err(ParseError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => break,
            Err(ParseError::Write(e)) => return Err(format!("writing to standard output: {e}")),
            Err(ParseError::Read(e)) => {
                out.flush().ok();
                eprintln!("albingest: {e}");
                failed_inputs += 1;
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            return Err(format!("writing to standard output: {e}"))
        }
        _ => {}
    }
    eprintln!(
        "albingest parse: {} input{}, {} lines, {} documents, {} failures ({}){}",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        total.lines,
        total.documents,
        total.failures,
        total.formats_summary(),
        if failed_inputs > 0 {
            format!(", {failed_inputs} unreadable")
        } else {
            String::new()
        }
    );
    Ok(if failed_inputs > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_file(
    parser: &Parser,
    prefixes: &IndexPrefixes,
    path: &PathBuf,
    bulk: bool,
    out: &mut impl Write,
) -> Result<ParseStats, ParseError> {
    let name = path.display().to_string();
    let unreadable = |source: io::Error| ReadError::Open {
        object: name.clone(),
        source,
    };
    let source: Box<dyn Read + Send> = if name == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(unreadable)?)
    };
    let decoded = decode(source).map_err(unreadable)?;
    let object = if name == "-" {
        ObjectInfo::local("-")
    } else {
        ObjectInfo::local(&name)
    };
    let ids = ObjectHash::new(object.bucket.as_deref(), &object.key);
    let mut buf = Vec::with_capacity(64 * 1024);
    let stats = for_each_document(parser, &object, decoded.reader, |parsed, line| {
        if bulk {
            let index = prefixes.index_name(parsed);
            write_action(&mut buf, &index, &ids.document_id(line.offset))?;
        }
        json::write(&mut buf, &parsed.document).map_err(io::Error::other)?;
        buf.push(b'\n');
        if buf.len() >= 60 * 1024 {
            out.write_all(&buf)?;
            buf.clear();
        }
        Ok(())
    });
    out.write_all(&buf)?;
    stats
}
