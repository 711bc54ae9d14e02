//! `albingest parse`: documents to stdout as NDJSON (or `_bulk` pairs), a summary to stderr.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::bulk::{write_action, IndexPrefixes, ObjectHash};
use crate::count::count;
use crate::decompress::decode;
use crate::json;
use crate::lines::Line;
use crate::object_key::ObjectInfo;
use crate::parse::ParsedLine;
use crate::parse::Parser;
use crate::pipeline::{for_each_encoded_block, ParseStats, ReadError, Stopped};

use super::{runtime, CliError, ParseOptions};

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

pub fn run(args: ParseArgs) -> Result<ExitCode, CliError> {
    let enricher = runtime()?.block_on(args.options.enricher(None))?;
    let parser = args.options.parser()?.enrich(enricher);
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
    let mut unreadable = 0;
    let mut output_closed = false;
    let threads = match args.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let output = Output {
        prefixes: &prefixes,
        bulk: args.bulk,
        threads,
    };
    let mut write_error = None;
    for path in &files {
        let (stats, result) = parse_file(&parser, &output, path, &mut out);
        total.add(&stats);
        match result {
            Ok(()) => {}
            // The reader went away (`| head`): stop quietly, as ripgrep does.
            Err(ParseError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                output_closed = true;
                break;
            }
            Err(ParseError::Write(e)) => {
                write_error = Some(CliError::Stdout(e));
                break;
            }
            Err(ParseError::Read(e)) => {
                out.flush().ok();
                to_stderr!("albingest: {e}");
                unreadable += 1;
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => output_closed = true,
        Err(e) => write_error = write_error.or(Some(CliError::Stdout(e))),
        Ok(()) => {}
    }
    to_stderr!(
        "albingest parse: {}",
        summary(files.len(), &total, unreadable, output_closed)
    );
    if let Some(error) = write_error {
        return Err(error);
    }
    Ok(if unreadable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `2 inputs, 2238 lines, 2238 documents, 0 failures (alb=2238), 1 unreadable`: what was read and
/// written, inputs that failed part-way included.
fn summary(inputs: usize, total: &ParseStats, unreadable: u64, output_closed: bool) -> String {
    let mut text = format!(
        "{}, {}, {}, {}",
        count(inputs as u64, "input", "inputs"),
        count(total.lines, "line", "lines"),
        count(total.documents, "document", "documents"),
        count(total.failures, "failure", "failures"),
    );
    // Formats and failures are known per whole block written; a block cut by a closed output is
    // counted in documents only.
    if total.by_format.iter().sum::<u64>() == total.documents {
        text.push_str(&format!(" ({})", total.formats_summary()));
    } else {
        text.push_str(" (of the last block only the documents are counted)");
    }
    // lines = documents + dropped (the configuration's drop and sample rules).
    if total.dropped > 0 {
        text.push_str(&format!(", {} dropped", total.dropped));
    }
    if unreadable > 0 {
        text.push_str(&format!(", {unreadable} unreadable"));
    }
    if output_closed {
        text.push_str("; standard output closed: stopped after those documents");
    }
    text
}

struct Output<'a> {
    prefixes: &'a IndexPrefixes,
    bulk: bool,
    threads: usize,
}

/// Writes the documents of one input; the counts cover what was written even when it stopped
/// part-way (a broken stream, a closed standard output).
fn parse_file(
    parser: &Parser,
    output: &Output,
    path: &std::path::Path,
    out: &mut impl Write,
) -> (ParseStats, Result<(), ParseError>) {
    let name = path.display().to_string();
    let unreadable = |source: io::Error| ReadError::Open {
        object: name.clone(),
        source,
    };
    let opened = if name == "-" {
        Ok((
            Box::new(io::stdin()) as Box<dyn Read + Send>,
            ObjectInfo::local(&name),
        ))
    } else {
        crate::source::local_object(path)
            .and_then(|object| Ok((crate::source::open_local(path)?.0, object)))
    };
    let (decoded, object) = match opened.and_then(|(source, object)| Ok((decode(source)?, object)))
    {
        Ok(opened) => opened,
        Err(e) => return (ParseStats::default(), Err(unreadable(e).into())),
    };
    let ids = ObjectHash::new(object.bucket.as_deref(), &object.key);
    let encode = |parsed: &ParsedLine, line: &Line, buf: &mut Vec<u8>| {
        if output.bulk {
            let index = output.prefixes.index_name(parsed);
            write_action(buf, &index, Some(ids.document_id(line.offset).as_str()));
        }
        json::write(buf, &parsed.document);
        buf.push(b'\n');
        Ok(())
    };
    // Documents of a block that was only partly written when the output closed.
    let mut partly_written = 0;
    let lines_per_document = if output.bulk { 2 } else { 1 };
    let result = for_each_encoded_block(
        parser,
        &object,
        decoded.reader,
        output.threads,
        encode,
        |block| {
            write_counting(out, block, lines_per_document, &mut partly_written)
                .map_err(ParseError::Write)
        },
    );
    match result {
        Ok(stats) => (stats, Ok(())),
        Err(Stopped { mut stats, error }) => {
            stats.lines += partly_written;
            stats.documents += partly_written;
            (stats, Err(error))
        }
    }
}

/// `write_all`, but on an error says how many whole documents of `block` went out before it.
fn write_counting(
    out: &mut impl Write,
    block: &[u8],
    lines_per_document: u64,
    written_documents: &mut u64,
) -> io::Result<()> {
    let mut written = 0;
    while written < block.len() {
        match out.write(&block[written..]) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "standard output accepts no more bytes",
                ))
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let lines = memchr::memchr_iter(b'\n', &block[..written]).count() as u64;
                *written_documents = lines / lines_per_document;
                return Err(e);
            }
        }
    }
    Ok(())
}
