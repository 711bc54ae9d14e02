//! ALB health check log fields → document (`documents.md`, "ALB health check log").

use crate::document::{Document, Elb, Endpoint, HealthCheck, HttpResponse, Seconds, TargetGroup};

use super::fields::{field_names, FieldError, Fields, FormatBuilder};

field_names! {
    Type = "type",
    Time = "time",
    Latency = "latency",
    TargetAddr = "target_addr",
    TargetGroupId = "target_group_id",
    Status = "status",
    StatusCode = "status_code",
    ReasonCode = "reason_code",
    Elb = "elb",
    IpAddress = "ip_address",
    UnparsedTrailing = "unparsed_trailing",
}

/// The ALB health check log.
pub(super) struct HealthCheckLog;

impl FormatBuilder for HealthCheckLog {
    const FIELDS: &'static [&'static str] = FIELDS;

    fn build<'a>(fields: &Fields<'a, '_>, document: &mut Document<'a>) -> Result<(), FieldError> {
        build(fields, document)
    }
}

fn build<'a>(f: &Fields<'a, '_>, doc: &mut Document<'a>) -> Result<(), FieldError> {
    let start = f.line_time(F::Time)?;
    let latency = f.decimal(F::Latency)?;
    doc.event.duration = latency.map(|sec| (sec.value() * 1e9).round() as i64);
    doc.event.start = Some(start.rfc3339.clone());
    doc.timestamp = start.rfc3339;

    let status = f.str(F::Status);
    doc.event.outcome = status.map(|s| match s {
        "PASS" => "success",
        "FAIL" => "failure",
        _ => "unknown",
    });
    if let Some(status_code) = f.int(F::StatusCode)? {
        doc.http = Some(crate::document::Http {
            response: Some(HttpResponse {
                status_code: Some(status_code),
                body: None,
            }),
            ..Default::default()
        });
    }

    // A Lambda target is checked by invoking the function: its ARN stands where an ip:port would.
    let target = f.str(F::TargetAddr);
    let target_arn = target.filter(|t| t.starts_with("arn:"));
    if let Some(arn) = target_arn {
        doc.destination = Some(Endpoint {
            address: Some(arn),
            ..Endpoint::default()
        });
    } else if let Some(address) = f.address(F::TargetAddr)? {
        doc.destination = Some(address.endpoint());
    }

    doc.aws.elb = Some(Box::new(Elb {
        kind: f.str(F::Type),
        name: f.str(F::Elb),
        target_group: f.str(F::TargetGroupId).map(|name| TargetGroup {
            arn: None,
            name: Some(name),
        }),
        health_check: Some(HealthCheck {
            latency: latency.map(|sec| Seconds { sec }),
            status,
            reason_code: f.str(F::ReasonCode),
            target_arn,
        }),
        node_ip: f.ip(F::IpAddress)?,
        unparsed_trailing: f.trailing(F::UnparsedTrailing),
        ..Elb::default()
    }));
    Ok(())
}
