//! NLB access log fields → document (`documents.md`, "NLB access log").

use std::borrow::Cow;

use crate::document::{Backend, Cert, Document, Elb, Endpoint, List, ListSep, Millis};

use super::fields::{field_names, FieldError, Fields, FormatBuilder};
use super::request;

field_names! {
    Type = "type",
    Version = "version",
    Time = "time",
    Elb = "elb",
    Listener = "listener",
    Client = "client",
    Destination = "destination",
    ConnectionTime = "connection_time",
    TlsHandshakeTime = "tls_handshake_time",
    ReceivedBytes = "received_bytes",
    SentBytes = "sent_bytes",
    IncomingTlsAlert = "incoming_tls_alert",
    ChosenCertArn = "chosen_cert_arn",
    ChosenCertSerial = "chosen_cert_serial",
    TlsCipher = "tls_cipher",
    TlsProtocolVersion = "tls_protocol_version",
    TlsKeyexchange = "tls_keyexchange",
    // The name until 2025: a user's own pattern file may still capture it.
    TlsNamedGroup = "tls_named_group",
    DomainName = "domain_name",
    AlpnFeProtocol = "alpn_fe_protocol",
    AlpnBeProtocol = "alpn_be_protocol",
    AlpnClientPreferenceList = "alpn_client_preference_list",
    TlsConnectionCreationTime = "tls_connection_creation_time",
    UnparsedTrailing = "unparsed_trailing",
}

/// The NLB access log.
pub(super) struct NlbAccessLog;

impl FormatBuilder for NlbAccessLog {
    const FIELDS: &'static [&'static str] = FIELDS;

    fn build<'a>(fields: &Fields<'a, '_>, document: &mut Document<'a>) -> Result<(), FieldError> {
        build(fields, document)
    }
}

fn build<'a>(f: &Fields<'a, '_>, doc: &mut Document<'a>) -> Result<(), FieldError> {
    let time = f.line_time(F::Time)?;
    doc.event.end = Some(time.rfc3339.clone());
    doc.timestamp = time.rfc3339;

    if let Some(client) = f.address(F::Client)? {
        doc.source = Some(client.endpoint());
    }
    if let Some(bytes) = f.int(F::ReceivedBytes)? {
        doc.source.get_or_insert_with(Endpoint::default).bytes = Some(bytes);
    }
    let domain = f.str(F::DomainName).map(percent_decode);
    let sent = f.int(F::SentBytes)?;
    if domain.is_some() || sent.is_some() {
        doc.destination = Some(Endpoint {
            domain,
            bytes: sent,
            ..Endpoint::default()
        });
    }
    let cipher = f.str(F::TlsCipher);
    let protocol = f.str(F::TlsProtocolVersion);
    doc.tls = request::tls(cipher, protocol);
    let backend = f.address(F::Destination)?.map(|d| Backend {
        ip: d.ip,
        port: Some(d.port),
        http: None,
    });
    let arn = f.str(F::ChosenCertArn);
    let serial = f.str(F::ChosenCertSerial);
    doc.aws.elb = Some(Box::new(Elb {
        kind: f.str(F::Type),
        protocol: Some("tcp"),
        version: f.str(F::Version),
        name: f.str(F::Elb),
        listener: f.str(F::Listener),
        backend,
        connection_time: f.int(F::ConnectionTime)?.map(|ms| Millis { ms }),
        tls_handshake_time: f.int(F::TlsHandshakeTime)?.map(|ms| Millis { ms }),
        incoming_tls_alert: f.str(F::IncomingTlsAlert),
        chosen_cert: (arn.is_some() || serial.is_some()).then_some(Cert { arn, serial }),
        ssl_cipher: cipher,
        ssl_protocol: protocol,
        tls_keyexchange: f.str(F::TlsKeyexchange).or_else(|| f.str(F::TlsNamedGroup)),
        alpn_fe_protocol: f.str(F::AlpnFeProtocol),
        alpn_be_protocol: f.str(F::AlpnBeProtocol),
        alpn_client_preference_list: f
            .str(F::AlpnClientPreferenceList)
            .map(|l| List::new(l, ListSep::Comma)),
        tls_connection_creation_time: f.time(F::TlsConnectionCreationTime)?.map(|t| t.rfc3339),
        unparsed_trailing: f.trailing(F::UnparsedTrailing),
        ..Elb::default()
    }));
    Ok(())
}

/// NLB logs the SNI name URL-encoded; a `%` not followed by two hex digits is kept as written.
fn percent_decode(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|c| hex(*c)),
            b.get(i + 2).and_then(|c| hex(*c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_decoding() {
        assert_eq!(super::percent_decode("a%2Eb.com"), "a.b.com");
        assert_eq!(super::percent_decode("50%"), "50%");
        assert_eq!(super::percent_decode("plain"), "plain");
    }
}
