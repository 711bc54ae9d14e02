//! `albingest parse`: documents to stdout as NDJSON (or `_bulk` pairs), a summary to stderr.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::bulk::{write_action, IndexPrefixes, ObjectHash};
use crate::decompress::decode;
use crate::json;
use crate::lines::Line;
use crate::object_key::ObjectInfo;
use crate::parse::ParsedLine;
use crate::parse::Parser;
use crate::pipeline::{for_each_encoded_block, ParseStats, ReadError};

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

    /// Parsing threads; 0 = one per CPU core. Output order is input order whatever the count.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

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
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let output = Output {
        prefixes: &prefixes,
        bulk: args.bulk,
        threads,
    };
    for path in &files {
        match parse_file(&parser, &output, path, &mut out) {
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

struct Output<'a> {
    prefixes: &'a IndexPrefixes,
    bulk: bool,
    threads: usize,
}

fn parse_file(
    parser: &Parser,
    output: &Output,
    path: &std::path::Path,
    out: &mut impl Write,
) -> Result<ParseStats, ParseError> {
    let name = path.display().to_string();
    let unreadable = |source: io::Error| ReadError::Open {
        object: name.clone(),
        source,
    };
    let (source, object): (Box<dyn Read + Send>, _) = if name == "-" {
        (Box::new(io::stdin()), ObjectInfo::local(&name))
    } else {
        let object = crate::source::local_object(path).map_err(unreadable)?;
        (
            crate::source::open_local(path).map_err(unreadable)?.0,
            object,
        )
    };
    let decoded = decode(source).map_err(unreadable)?;
    let ids = ObjectHash::new(object.bucket.as_deref(), &object.key);
    let encode = |parsed: &ParsedLine, line: &Line, buf: &mut Vec<u8>| {
        if output.bulk {
            let index = output.prefixes.index_name(parsed);
            write_action(buf, &index, ids.document_id(line.offset).as_str());
        }
        json::write(buf, &parsed.document);
        buf.push(b'\n');
        Ok(())
    };
    for_each_encoded_block(
        parser,
        &object,
        decoded.reader,
        output.threads,
        encode,
        |block| out.write_all(block).map_err(ParseError::Write),
    )
}
