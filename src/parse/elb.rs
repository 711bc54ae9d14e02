//! Classic Load Balancer access log fields → document (`documents.md`, "Classic ELB").

use crate::document::{Backend, Document, Elb, HttpResponseOnly, StatusCode, UserAgent};

use super::fields::{field_names, FieldError, Fields, FormatBuilder};
use super::request;

field_names! {
    Time = "time",
    Elb = "elb",
    Client = "client",
    Backend = "backend",
    RequestProcessingTime = "request_processing_time",
    BackendProcessingTime = "backend_processing_time",
    ResponseProcessingTime = "response_processing_time",
    ElbStatusCode = "elb_status_code",
    BackendStatusCode = "backend_status_code",
    ReceivedBytes = "received_bytes",
    SentBytes = "sent_bytes",
    Request = "request",
    UserAgent = "user_agent",
    SslCipher = "ssl_cipher",
    SslProtocol = "ssl_protocol",
    UnparsedTrailing = "unparsed_trailing",
}

/// The Classic ELB access log.
pub(super) struct ElbAccessLog;

impl FormatBuilder for ElbAccessLog {
    const FIELDS: &'static [&'static str] = FIELDS;

    fn build<'a>(fields: &Fields<'a, '_>, document: &mut Document<'a>) -> Result<(), FieldError> {
        build(fields, document)
    }
}

fn build<'a>(f: &Fields<'a, '_>, doc: &mut Document<'a>) -> Result<(), FieldError> {
    // Classic logs the time the request was received.
    let time = f.line_time(F::Time)?;
    doc.event.start = Some(time.rfc3339.clone());
    doc.timestamp = time.rfc3339;
    let status = f.int(F::ElbStatusCode)?;
    let backend_status = f.int(F::BackendStatusCode)?;

    if let Some(client) = f.address(F::Client)? {
        doc.source = Some(client.endpoint());
    }
    let backend = f.address(F::Backend)?;
    let has_request = request::fill_http(
        doc,
        f.str(F::Request),
        status,
        f.int(F::ReceivedBytes)?,
        f.int(F::SentBytes)?,
    );
    doc.user_agent = f.str(F::UserAgent).map(|original| UserAgent {
        original: Some(original),
        parsed: None,
    });
    let cipher = f.str(F::SslCipher);
    let protocol = f.str(F::SslProtocol);
    doc.tls = request::tls(cipher, protocol);
    doc.aws.elb = Some(Box::new(Elb {
        name: f.str(F::Elb),
        protocol: Some(if has_request { "http" } else { "tcp" }),
        backend: (backend.is_some() || backend_status.is_some()).then(|| Backend {
            ip: backend.as_ref().and_then(|b| b.ip),
            port: backend.as_ref().map(|b| b.port),
            http: backend_status.map(|status_code| HttpResponseOnly {
                response: StatusCode { status_code },
            }),
        }),
        request_processing_time: f.processing_time(F::RequestProcessingTime)?,
        backend_processing_time: f.processing_time(F::BackendProcessingTime)?,
        response_processing_time: f.processing_time(F::ResponseProcessingTime)?,
        ssl_cipher: cipher,
        ssl_protocol: protocol,
        unparsed_trailing: f.trailing(F::UnparsedTrailing),
        ..Elb::default()
    }));
    Ok(())
}
