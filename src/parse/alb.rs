//! ALB access log fields → document (`documents.md`, "ALB access log").

use crate::document::{
    Backend, Cert, Document, Elb, Endpoint, HttpResponseOnly, IntList, List, ListSep, Reason,
    StatusCode, TargetGroup, Trace, UserAgent,
};

use super::fields::{field_names, FieldError, Fields, FormatBuilder};
use super::request;

field_names! {
    Type = "type",
    Time = "time",
    Elb = "elb",
    Client = "client",
    Target = "target",
    RequestProcessingTime = "request_processing_time",
    TargetProcessingTime = "target_processing_time",
    ResponseProcessingTime = "response_processing_time",
    ElbStatusCode = "elb_status_code",
    TargetStatusCode = "target_status_code",
    ReceivedBytes = "received_bytes",
    SentBytes = "sent_bytes",
    Request = "request",
    UserAgent = "user_agent",
    SslCipher = "ssl_cipher",
    SslProtocol = "ssl_protocol",
    TargetGroupArn = "target_group_arn",
    TraceId = "trace_id",
    DomainName = "domain_name",
    ChosenCertArn = "chosen_cert_arn",
    MatchedRulePriority = "matched_rule_priority",
    RequestCreationTime = "request_creation_time",
    ActionsExecuted = "actions_executed",
    RedirectUrl = "redirect_url",
    ErrorReason = "error_reason",
    TargetPortList = "target_port_list",
    TargetStatusCodeList = "target_status_code_list",
    Classification = "classification",
    ClassificationReason = "classification_reason",
    ConnTraceId = "conn_trace_id",
    TransformedHost = "transformed_host",
    TransformedUri = "transformed_uri",
    RequestTransformStatus = "request_transform_status",
    IpAddress = "ip_address",
    UnparsedTrailing = "unparsed_trailing",
}

/// The ALB access log.
pub(super) struct AlbAccessLog;

impl FormatBuilder for AlbAccessLog {
    const FIELDS: &'static [&'static str] = FIELDS;

    fn build<'a>(fields: &Fields<'a, '_>, document: &mut Document<'a>) -> Result<(), FieldError> {
        build(fields, document)
    }
}

fn build<'a>(f: &Fields<'a, '_>, doc: &mut Document<'a>) -> Result<(), FieldError> {
    let end = f.line_time(F::Time)?;
    let start = f.time(F::RequestCreationTime)?;
    let status = f.int(F::ElbStatusCode)?;
    let target_status = f.int(F::TargetStatusCode)?;

    // Nanoseconds overflow a long past ±292 years (corrupt times): no duration then.
    doc.event.duration = start
        .as_ref()
        .and_then(|s| (end.epoch_micros - s.epoch_micros).checked_mul(1_000));
    doc.event.start = start.map(|s| s.rfc3339);
    doc.event.end = Some(end.rfc3339.clone());
    doc.timestamp = end.rfc3339;

    if let Some(client) = f.address(F::Client)? {
        doc.source = Some(client.endpoint());
    }
    let target = f.address(F::Target)?;
    let backend = (target.is_some() || target_status.is_some()).then(|| Backend {
        ip: target.as_ref().and_then(|t| t.ip),
        port: target.as_ref().map(|t| t.port),
        http: target_status.map(|status_code| HttpResponseOnly {
            response: StatusCode { status_code },
        }),
    });

    request::fill_http(
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
    let trace_id = f.str(F::TraceId);
    doc.trace = trace_id.map(|id| Trace { id });
    if let Some(domain) = f.str(F::DomainName) {
        doc.destination = Some(Endpoint {
            domain: Some(domain.into()),
            ..Endpoint::default()
        });
    }

    let target_status_list = f.str(F::TargetStatusCodeList);
    if let Some(list) = target_status_list {
        if let Some(bad) = List::new(list, ListSep::Space)
            .items()
            .find(|i| i.parse::<i64>().is_err())
        {
            return Err(FieldError::new(
                F::TargetStatusCodeList.name(),
                bad,
                "is not a number",
            ));
        }
    }
    let kind = f.str(F::Type);
    doc.aws.elb = Some(Box::new(Elb {
        kind,
        protocol: kind,
        name: f.str(F::Elb),
        backend,
        request_processing_time: f.processing_time(F::RequestProcessingTime)?,
        backend_processing_time: f.processing_time(F::TargetProcessingTime)?,
        response_processing_time: f.processing_time(F::ResponseProcessingTime)?,
        ssl_cipher: cipher,
        ssl_protocol: protocol,
        target_group: f.str(F::TargetGroupArn).map(|arn| TargetGroup {
            arn: Some(arn),
            name: None,
        }),
        trace_id,
        chosen_cert: f.str(F::ChosenCertArn).map(|arn| Cert {
            arn: Some(arn),
            serial: None,
        }),
        matched_rule_priority: f.int(F::MatchedRulePriority)?.filter(|p| *p != -1),
        action_executed: f
            .str(F::ActionsExecuted)
            .map(|a| List::new(a, ListSep::Comma)),
        redirect_url: f.str(F::RedirectUrl),
        error: f.str(F::ErrorReason).map(|reason| Reason { reason }),
        target_port: f
            .str(F::TargetPortList)
            .map(|l| List::new(l, ListSep::Space)),
        target_status_code: target_status_list.map(|l| IntList(List::new(l, ListSep::Space))),
        classification: f.str(F::Classification),
        classification_reason: f.str(F::ClassificationReason),
        connection_trace_id: f.str(F::ConnTraceId),
        transformed_host: f.str(F::TransformedHost),
        transformed_uri: f.str(F::TransformedUri),
        request_transform_status: f.str(F::RequestTransformStatus),
        node_ip: f.ip(F::IpAddress)?,
        unparsed_trailing: f.trailing(F::UnparsedTrailing),
        ..Elb::default()
    }));
    Ok(())
}
