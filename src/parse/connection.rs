//! ALB connection log fields → document (`documents.md`, "ALB connection log").

use crate::document::{Document, Elb, Endpoint};
use crate::timestamp;

use super::fields::{field_names, valid_ip, FieldError, Fields, FormatBuilder};
use super::request;

field_names! {
    Timestamp = "timestamp",
    ClientIp = "client_ip",
    ClientPort = "client_port",
    ListenerPort = "listener_port",
    TlsProtocol = "tls_protocol",
    TlsCipher = "tls_cipher",
    TlsHandshakeLatency = "tls_handshake_latency",
    LeafClientCertSubject = "leaf_client_cert_subject",
    LeafClientCertValidity = "leaf_client_cert_validity",
    LeafClientCertSerialNumber = "leaf_client_cert_serial_number",
    TlsVerifyStatus = "tls_verify_status",
    ConnTraceId = "conn_trace_id",
    TlsKeyexchange = "tls_keyexchange",
    Elb = "elb",
    IpAddress = "ip_address",
    UnparsedTrailing = "unparsed_trailing",
}

/// The ALB connection log.
pub(super) struct ConnectionLog;

impl FormatBuilder for ConnectionLog {
    const FIELDS: &'static [&'static str] = FIELDS;

    fn build<'a>(fields: &Fields<'a, '_>, document: &mut Document<'a>) -> Result<(), FieldError> {
        build(fields, document)
    }
}

fn build<'a>(f: &Fields<'a, '_>, doc: &mut Document<'a>) -> Result<(), FieldError> {
    let time = f.line_time(F::Timestamp)?;
    doc.event.end = Some(time.rfc3339.clone());
    doc.timestamp = time.rfc3339;

    let client_ip = f.str(F::ClientIp);
    doc.source = (client_ip.is_some() || f.str(F::ClientPort).is_some()).then(|| Endpoint {
        address: client_ip,
        ip: client_ip.and_then(valid_ip),
        ..Endpoint::default()
    });
    if let Some(source) = &mut doc.source {
        source.port = f.port(F::ClientPort)?;
    }
    let listener = f.str(F::ListenerPort);
    if listener.is_some() {
        doc.destination = Some(Endpoint {
            port: f.port(F::ListenerPort)?,
            ..Endpoint::default()
        });
    }
    let cipher = f.str(F::TlsCipher);
    let protocol = f.str(F::TlsProtocol);
    doc.tls = request::tls(cipher, protocol);

    let (not_before, not_after) = match f.str(F::LeafClientCertValidity) {
        Some(validity) => {
            let bad = || {
                FieldError::new(
                    F::LeafClientCertValidity.name(),
                    validity,
                    "is not NotBefore=<time>;NotAfter=<time>",
                )
            };
            let (before, after) = validity.split_once(';').ok_or_else(bad)?;
            let before = before.strip_prefix("NotBefore=").and_then(timestamp::parse);
            let after = after.strip_prefix("NotAfter=").and_then(timestamp::parse);
            match (before, after) {
                (Some(b), Some(a)) => (Some(b.rfc3339), Some(a.rfc3339)),
                _ => return Err(bad()),
            }
        }
        None => (None, None),
    };
    // `Failed:ClientCertUntrusted` is split as Elastic's AWS integration does (its dashboards
    // filter on the status alone); `Success` has no code.
    let (verify_status, error_code) = match f.str(F::TlsVerifyStatus) {
        Some(status) => match status.split_once(':') {
            Some((status, code)) => (Some(status), Some(code).filter(|c| !c.is_empty())),
            None => (Some(status), None),
        },
        None => (None, None),
    };
    doc.aws.elb = Some(Box::new(Elb {
        name: f.str(F::Elb),
        listener,
        ssl_protocol: protocol,
        ssl_cipher: cipher,
        tls_handshake_latency: f.float(F::TlsHandshakeLatency)?,
        leaf_client_cert_subject: f.str(F::LeafClientCertSubject),
        leaf_client_cert_not_before: not_before,
        leaf_client_cert_not_after: not_after,
        leaf_client_cert_serial_number: f.str(F::LeafClientCertSerialNumber),
        tls_verify_status: verify_status,
        tls_error_code: error_code,
        connection_trace_id: f.str(F::ConnTraceId),
        tls_keyexchange: f.str(F::TlsKeyexchange),
        node_ip: f.ip(F::IpAddress)?,
        unparsed_trailing: f.trailing(F::UnparsedTrailing),
        ..Elb::default()
    }));
    Ok(())
}
