#!/usr/bin/env python3
"""Writes the "ALB overview", "ALB target health", "NLB overview" and "ALB connection log overview"
saved objects for OpenSearch Dashboards and Kibana.

    python3 deploy/dashboards/generate.py           # (re)write both .ndjson files
    python3 deploy/dashboards/generate.py --check   # exit 1 if a file differs from what it would write

One definition, two flavours: the files differ only where the two products do (OpenSearch
Dashboards renamed the date histogram's `useNormalizedEsInterval` to
`useNormalizedOpenSearchInterval`). Both use the aggregation-based `visualization` type with the
7.10 attribute layout (visState, uiStateJSON, searchSourceJSON with indexRefName), which
OpenSearch Dashboards 2.x/3.x import as is and Kibana 8 migrates on import. Ids are stable, so
`_import?overwrite=true` updates the objects in place. tests/deploy_assets.rs checks the output
against the index template mappings.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

LOGS_PATTERN_ID = "albingest-alb-logs"
FAILED_PATTERN_ID = "albingest-alb-logs-failed"
HEALTH_PATTERN_ID = "albingest-alb-health-check-logs"
NLB_PATTERN_ID = "albingest-nlb-logs"
CONNECTION_PATTERN_ID = "albingest-alb-connection-logs"
TARGET_HEALTH_ID = "albingest-alb-target-health"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"

# Documents of requests only (the alb-logs-* pattern also matches the alb-logs-failed-* indices).
REQUESTS_QUERY = "event.kind:event"

MIGRATION = {
    "index-pattern": "7.6.0",
    "visualization": "7.10.0",
    "search": "7.9.3",
    "dashboard": "7.9.3",
}


def dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def search_source(query, language="kuery"):
    return dumps(
        {
            "query": {"query": query, "language": language},
            "filter": [],
            "indexRefName": INDEX_REF,
        }
    )


def index_pattern(obj_id, title):
    return {
        "type": "index-pattern",
        "id": obj_id,
        "attributes": {
            "title": title,
            "timeFieldName": "@timestamp",
            # Empty: both products read the fields from the cluster when the pattern is opened.
            "fields": "[]",
        },
        "references": [],
        "migrationVersion": {"index-pattern": MIGRATION["index-pattern"]},
    }


def visualization(obj_id, title, description, vis_type, aggs, params, pattern=LOGS_PATTERN_ID, query=REQUESTS_QUERY):
    vis_state = {"title": title, "type": vis_type, "aggs": aggs, "params": params}
    return {
        "type": "visualization",
        "id": obj_id,
        "attributes": {
            "title": title,
            "description": description,
            "visState": dumps(vis_state),
            "uiStateJSON": "{}",
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": search_source(query)},
        },
        "references": [{"name": INDEX_REF, "type": "index-pattern", "id": pattern}],
        "migrationVersion": {"visualization": MIGRATION["visualization"]},
    }


def markdown(obj_id, title, description, text):
    """A text panel (no index pattern): links between dashboards."""
    vis_state = {
        "title": title,
        "type": "markdown",
        "aggs": [],
        "params": {"fontSize": 12, "openLinksInNewTab": False, "markdown": text},
    }
    return {
        "type": "visualization",
        "id": obj_id,
        "attributes": {
            "title": title,
            "description": description,
            "visState": dumps(vis_state),
            "uiStateJSON": "{}",
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": dumps({"query": {"query": "", "language": "kuery"}, "filter": []})},
        },
        "references": [],
        "migrationVersion": {"visualization": MIGRATION["visualization"]},
    }


def count_metric(agg_id="1", label="Requests"):
    return {
        "id": agg_id,
        "enabled": True,
        "type": "count",
        "schema": "metric",
        "params": {"customLabel": label},
    }


def date_histogram(flavour, agg_id="2"):
    interval_key = (
        "useNormalizedOpenSearchInterval" if flavour == "opensearch-dashboards" else "useNormalizedEsInterval"
    )
    return {
        "id": agg_id,
        "enabled": True,
        "type": "date_histogram",
        "schema": "segment",
        "params": {
            "field": "@timestamp",
            interval_key: True,
            "scaleMetricValues": False,
            "interval": "auto",
            "drop_partials": False,
            "min_doc_count": 1,
            "extended_bounds": {},
        },
    }


def terms(agg_id, field, size, schema="bucket", label=None):
    params = {
        "field": field,
        "orderBy": "1",
        "order": "desc",
        "size": size,
        "otherBucket": False,
        "otherBucketLabel": "Other",
        "missingBucket": False,
        "missingBucketLabel": "Missing",
    }
    if label:
        params["customLabel"] = label
    return {"id": agg_id, "enabled": True, "type": "terms", "schema": schema, "params": params}


def xy_params(chart_type, mode, value_title, series_label, series_agg="1"):
    return {
        "type": chart_type,
        "grid": {"categoryLines": False},
        "categoryAxes": [
            {
                "id": "CategoryAxis-1",
                "type": "category",
                "position": "bottom",
                "show": True,
                "style": {},
                "scale": {"type": "linear"},
                "labels": {"show": True, "filter": True, "truncate": 100},
                "title": {},
            }
        ],
        "valueAxes": [
            {
                "id": "ValueAxis-1",
                "name": "LeftAxis-1",
                "type": "value",
                "position": "left",
                "show": True,
                "style": {},
                "scale": {"type": "linear", "mode": "normal"},
                "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                "title": {"text": value_title},
            }
        ],
        "seriesParams": [
            {
                "show": True,
                "type": chart_type,
                "mode": mode,
                "data": {"label": series_label, "id": series_agg},
                "valueAxis": "ValueAxis-1",
                "drawLinesBetweenPoints": True,
                "lineWidth": 2,
                "showCircles": True,
            }
        ],
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
        "labels": {"show": False},
        "thresholdLine": {"show": False, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
    }


def table_params(per_page=10):
    return {
        "perPage": per_page,
        "showPartialRows": False,
        "showMetricsAtAllLevels": False,
        "sort": {"columnIndex": None, "direction": None},
        "showTotal": False,
        "totalFunc": "sum",
        "percentageCol": "",
    }


def status_filter(query, label):
    return {"input": {"query": query, "language": "kuery"}, "label": label}


def saved_objects(flavour):
    code = "http.response.status_code"
    objects = [
        index_pattern(LOGS_PATTERN_ID, "alb-logs-*"),
        index_pattern(FAILED_PATTERN_ID, "alb-logs-failed-*"),
        visualization(
            "albingest-alb-requests-by-status",
            "ALB requests over time by status class",
            "Requests per interval, stacked by the load balancer's status code class.",
            "histogram",
            [
                count_metric(),
                date_histogram(flavour),
                {
                    "id": "3",
                    "enabled": True,
                    "type": "filters",
                    "schema": "group",
                    "params": {
                        "filters": [
                            status_filter(f"{code} >= 100 and {code} < 200", "1xx"),
                            status_filter(f"{code} >= 200 and {code} < 300", "2xx"),
                            status_filter(f"{code} >= 300 and {code} < 400", "3xx"),
                            status_filter(f"{code} >= 400 and {code} < 500", "4xx"),
                            status_filter(f"{code} >= 500", "5xx"),
                            status_filter(f"not {code}:*", "no status"),
                        ]
                    },
                },
            ],
            xy_params("histogram", "stacked", "Requests", "Requests"),
        ),
        visualization(
            "albingest-alb-latency-percentiles",
            "ALB target latency percentiles",
            "p50 / p95 / p99 of the target's processing time (aws.elb.backend_processing_time.sec, seconds).",
            "line",
            [
                {
                    "id": "1",
                    "enabled": True,
                    "type": "percentiles",
                    "schema": "metric",
                    "params": {
                        "field": "aws.elb.backend_processing_time.sec",
                        "percents": [50, 95, 99],
                        "customLabel": "Target processing time (s)",
                    },
                },
                date_histogram(flavour),
            ],
            xy_params("line", "normal", "Seconds", "Target processing time (s)"),
        ),
        visualization(
            "albingest-alb-top-paths",
            "ALB top URL paths",
            "Most requested url.path values.",
            "table",
            [count_metric(), terms("2", "url.path", 20, label="URL path")],
            table_params(),
        ),
        visualization(
            "albingest-alb-top-clients",
            "ALB top client IPs",
            "Clients (source.ip) with the most requests.",
            "table",
            [count_metric(), terms("2", "source.ip", 20, label="Client IP")],
            table_params(),
        ),
        visualization(
            "albingest-alb-top-user-agents",
            "ALB top user agents",
            "Most frequent user_agent.original values.",
            "table",
            [count_metric(), terms("2", "user_agent.original", 20, label="User agent")],
            table_params(),
        ),
        visualization(
            "albingest-alb-error-reasons",
            "ALB errors by reason",
            "Requests the load balancer logged an error_reason for (aws.elb.error.reason).",
            "pie",
            [count_metric(), terms("2", "aws.elb.error.reason", 15, schema="segment", label="Error reason")],
            {
                "type": "pie",
                "addTooltip": True,
                "addLegend": True,
                "legendPosition": "right",
                "isDonut": True,
                "labels": {"show": False, "values": True, "last_level": True, "truncate": 100},
            },
        ),
        visualization(
            "albingest-alb-status-codes",
            "ALB status codes",
            "Requests by the load balancer's status code and the target's status code.",
            "table",
            [
                count_metric(),
                terms("2", code, 50, label="ELB status code"),
                terms("3", "aws.elb.backend.http.response.status_code", 20, label="Target status code"),
            ],
            table_params(per_page=20),
        ),
        {
            "type": "search",
            "id": "albingest-alb-failed-lines",
            "attributes": {
                "title": "ALB log lines that did not parse",
                "description": "Failure documents: the raw line, what failed, and the object it came from.",
                "hits": 0,
                "columns": ["error.message", "event.original", "log.file.path"],
                "sort": [["@timestamp", "desc"]],
                "version": 1,
                "kibanaSavedObjectMeta": {"searchSourceJSON": search_source("event.kind:pipeline_error")},
            },
            "references": [{"name": INDEX_REF, "type": "index-pattern", "id": FAILED_PATTERN_ID}],
            "migrationVersion": {"search": MIGRATION["search"]},
        },
    ]

    objects.extend(enrichment_objects())
    objects.extend(target_health_objects(flavour))
    for overview in FORMAT_OVERVIEWS:
        objects.extend(format_overview_objects(flavour, overview))

    # Dashboards: a 48-column grid.
    overview = [
        ("visualization", "albingest-alb-requests-by-status", 0, 0, 24, 15),
        ("visualization", "albingest-alb-latency-percentiles", 24, 0, 24, 15),
        ("visualization", "albingest-alb-status-codes", 0, 15, 16, 15),
        ("visualization", "albingest-alb-error-reasons", 16, 15, 16, 15),
        ("visualization", "albingest-alb-top-clients", 32, 15, 16, 15),
        ("visualization", "albingest-alb-top-paths", 0, 30, 24, 15),
        ("visualization", "albingest-alb-top-user-agents", 24, 30, 24, 15),
        ("search", "albingest-alb-failed-lines", 0, 45, 48, 15),
        ("visualization", "albingest-alb-link-target-health", 0, 60, 48, 4),
        # Enrichment (GeoIP, ASN, user agent): empty until it is turned on.
        ("visualization", "albingest-alb-client-map", 0, 64, 24, 20),
        ("visualization", "albingest-alb-top-countries", 24, 64, 12, 20),
        ("visualization", "albingest-alb-top-asns", 36, 64, 12, 20),
        ("visualization", "albingest-alb-browsers", 0, 84, 24, 15),
        ("visualization", "albingest-alb-operating-systems", 24, 84, 24, 15),
    ]
    objects.append(
        dashboard(
            "albingest-alb-overview",
            "ALB overview",
            "Application Load Balancer access logs loaded by albingest.",
            overview,
        )
    )
    target_health = [
        ("visualization", "albingest-alb-health-checks-by-status", 0, 0, 24, 15),
        ("visualization", "albingest-alb-health-check-latency", 24, 0, 24, 15),
        ("visualization", "albingest-alb-failing-targets", 0, 15, 32, 15),
        ("visualization", "albingest-alb-health-check-reasons", 32, 15, 16, 15),
        ("visualization", "albingest-alb-link-overview", 0, 30, 48, 4),
    ]
    objects.append(
        dashboard(
            TARGET_HEALTH_ID,
            "ALB target health",
            "Application Load Balancer health check logs loaded by albingest: checks by status, failing targets and why, check latency by target group.",
            target_health,
        )
    )
    return objects


def pie_params():
    return {
        "type": "pie",
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "isDonut": True,
        "labels": {"show": False, "values": True, "last_level": True, "truncate": 100},
    }


def enrichment_objects():
    """The panels of the enrichment fields (`--geoip-city`, `--geoip-asn`, `--user-agent`).

    The map is the aggregation-based coordinate map (`tile_map`, a geohash_grid of
    source.geo.location): OpenSearch Dashboards draws it itself, Kibana 8 draws saved `tile_map`
    visualizations with its Maps application."""
    return [
        visualization(
            "albingest-alb-client-map",
            "ALB client locations",
            "Requests by where their clients are (source.geo.location, from the GeoIP City database).",
            "tile_map",
            [
                count_metric(),
                {
                    "id": "2",
                    "enabled": True,
                    "type": "geohash_grid",
                    "schema": "segment",
                    "params": {
                        "field": "source.geo.location",
                        "autoPrecision": True,
                        "precision": 2,
                        "useGeocentroid": True,
                        "isFilteredByCollar": True,
                    },
                },
            ],
            {
                "mapType": "Scaled Circle Markers",
                "isDesaturated": True,
                "addTooltip": True,
                "heatClusterSize": 1.5,
                "legendPosition": "bottomright",
                "mapZoom": 2,
                "mapCenter": [20, 0],
            },
        ),
        visualization(
            "albingest-alb-top-countries",
            "ALB top client countries",
            "Requests by the client's country (source.geo.country_name).",
            "table",
            [count_metric(), terms("2", "source.geo.country_name", 20, label="Country")],
            table_params(),
        ),
        visualization(
            "albingest-alb-top-asns",
            "ALB top client networks (ASN)",
            "Requests by the client's autonomous system (source.as.*, from the GeoIP ASN database).",
            "table",
            [
                count_metric(),
                terms("2", "source.as.organization.name", 20, label="Organization"),
                terms("3", "source.as.number", 1, label="ASN"),
            ],
            table_params(),
        ),
        visualization(
            "albingest-alb-browsers",
            "ALB browsers",
            "Requests by browser or client (user_agent.name, from uap-core's patterns).",
            "pie",
            [count_metric(), terms("2", "user_agent.name", 15, schema="segment", label="Browser")],
            pie_params(),
        ),
        visualization(
            "albingest-alb-operating-systems",
            "ALB operating systems",
            "Requests by the client's operating system (user_agent.os.name).",
            "pie",
            [count_metric(), terms("2", "user_agent.os.name", 15, schema="segment", label="Operating system")],
            pie_params(),
        ),
    ]


def target_health_objects(flavour):
    status = "aws.elb.health_check.status"
    return [
        index_pattern(HEALTH_PATTERN_ID, "alb-health-check-logs-*"),
        visualization(
            "albingest-alb-health-checks-by-status",
            "ALB health checks over time by status",
            "Health checks per interval, stacked by their status (PASS / FAIL).",
            "histogram",
            [
                count_metric(label="Health checks"),
                date_histogram(flavour),
                terms("3", status, 5, schema="group", label="Status"),
            ],
            xy_params("histogram", "stacked", "Health checks", "Health checks"),
            pattern=HEALTH_PATTERN_ID,
        ),
        visualization(
            "albingest-alb-failing-targets",
            "ALB failing targets",
            "Targets whose health checks failed, by target group and reason code.",
            "table",
            [
                count_metric(label="Failed checks"),
                terms("2", "destination.address", 20, label="Target"),
                terms("3", "aws.elb.target_group.name", 10, label="Target group"),
                terms("4", "aws.elb.health_check.reason_code", 10, label="Reason code"),
            ],
            table_params(per_page=20),
            pattern=HEALTH_PATTERN_ID,
            query=f"event.kind:event and {status}:FAIL",
        ),
        visualization(
            "albingest-alb-health-check-reasons",
            "ALB health check failures by reason code",
            "Failed health checks by aws.elb.health_check.reason_code.",
            "pie",
            [count_metric(label="Failed checks"), terms("2", "aws.elb.health_check.reason_code", 15, schema="segment", label="Reason code")],
            {
                "type": "pie",
                "addTooltip": True,
                "addLegend": True,
                "legendPosition": "right",
                "isDonut": True,
                "labels": {"show": False, "values": True, "last_level": True, "truncate": 100},
            },
            pattern=HEALTH_PATTERN_ID,
            query=f"event.kind:event and {status}:FAIL",
        ),
        visualization(
            "albingest-alb-health-check-latency",
            "ALB health check latency by target group",
            "p95 of the health check latency (aws.elb.health_check.latency.sec, seconds) per target group.",
            "line",
            [
                {
                    "id": "1",
                    "enabled": True,
                    "type": "percentiles",
                    "schema": "metric",
                    "params": {
                        "field": "aws.elb.health_check.latency.sec",
                        "percents": [95],
                        "customLabel": "Health check latency p95 (s)",
                    },
                },
                date_histogram(flavour),
                terms("3", "aws.elb.target_group.name", 10, schema="group", label="Target group"),
            ],
            xy_params("line", "normal", "Seconds", "Health check latency p95 (s)"),
            pattern=HEALTH_PATTERN_ID,
        ),
        # Relative links: the same URL fragment works in both products, under a base path
        # (/_dashboards) and in a Kibana space (/s/SPACE/app/dashboards).
        markdown(
            "albingest-alb-link-target-health",
            "ALB target health (link)",
            "Link to the ALB target health dashboard.",
            f"**Targets:** [ALB target health](#/view/{TARGET_HEALTH_ID}) — health checks by status, failing targets and reason codes, check latency by target group.",
        ),
        markdown(
            "albingest-alb-link-overview",
            "ALB overview (link)",
            "Link back to the ALB overview dashboard.",
            "**Requests:** [ALB overview](#/view/albingest-alb-overview)",
        ),
    ]


def field_metric(agg_type, field, label, agg_id="1", **params):
    """A metric over one field: sum, avg, max, or percentiles (with percents=[...])."""
    return {
        "id": agg_id,
        "enabled": True,
        "type": agg_type,
        "schema": "metric",
        "params": {"field": field, "customLabel": label, **params},
    }


PIE_PARAMS = {
    "type": "pie",
    "addTooltip": True,
    "addLegend": True,
    "legendPosition": "right",
    "isDonut": True,
    "labels": {"show": False, "values": True, "last_level": True, "truncate": 100},
}

# The NLB and ALB connection log overviews, from one table each: (panel id suffix, title,
# description, chart, aggs(flavour), optional extra query). Every chart counts documents of
# connections only (failure documents share the pattern) and reads its own format's indices.
# Panels are laid out two to a row; a link back to the ALB overview closes each dashboard.
FORMAT_OVERVIEWS = [
    {
        "id": "albingest-nlb-overview",
        "title": "NLB overview",
        "description": "Network Load Balancer access logs loaded by albingest: connections by listener, connection and TLS handshake times, bytes, clients, targets, TLS versions and alerts.",
        "pattern_id": NLB_PATTERN_ID,
        "pattern": "nlb-logs-*",
        "panels": [
            ("connections-by-listener", "NLB connections over time by listener",
             "TLS connections per interval, stacked by listener (aws.elb.listener).", "histogram",
             lambda fl: [count_metric(label="Connections"), date_histogram(fl), terms("3", "aws.elb.listener", 10, schema="group", label="Listener")],
             None),
            ("connection-time", "NLB connection time percentiles",
             "p50 / p95 / p99 of aws.elb.connection_time.ms (milliseconds, whole connection).", "line",
             lambda fl: [field_metric("percentiles", "aws.elb.connection_time.ms", "Connection time (ms)", percents=[50, 95, 99]), date_histogram(fl)],
             None),
            ("tls-handshake-time", "NLB TLS handshake time percentiles",
             "p50 / p95 / p99 of aws.elb.tls_handshake_time.ms (milliseconds).", "line",
             lambda fl: [field_metric("percentiles", "aws.elb.tls_handshake_time.ms", "TLS handshake time (ms)", percents=[50, 95, 99]), date_histogram(fl)],
             None),
            ("bytes", "NLB bytes over time",
             "Bytes received from clients (source.bytes) and sent to them (destination.bytes).", "line",
             lambda fl: [field_metric("sum", "source.bytes", "Received bytes"), field_metric("sum", "destination.bytes", "Sent bytes", agg_id="3"), date_histogram(fl)],
             None),
            ("top-clients", "NLB top client IPs", "Clients (source.ip) with the most connections.", "table",
             lambda fl: [count_metric(label="Connections"), terms("2", "source.ip", 20, label="Client IP")],
             None),
            ("top-targets", "NLB top targets", "Targets (aws.elb.backend.ip, port) with the most connections.", "table",
             lambda fl: [count_metric(label="Connections"), terms("2", "aws.elb.backend.ip", 20, label="Target IP"), terms("3", "aws.elb.backend.port", 5, label="Port")],
             None),
            ("tls-versions", "NLB TLS versions and ciphers", "Connections by tls.version and tls.cipher.", "table",
             lambda fl: [count_metric(label="Connections"), terms("2", "tls.version", 5, label="TLS version"), terms("3", "tls.cipher", 10, label="Cipher")],
             None),
            ("tls-alerts", "NLB incoming TLS alerts", "Connections that ended with a TLS alert from the client (aws.elb.incoming_tls_alert).", "pie",
             lambda fl: [count_metric(label="Connections"), terms("2", "aws.elb.incoming_tls_alert", 15, schema="segment", label="Alert")],
             "aws.elb.incoming_tls_alert:*"),
        ],
    },
    {
        "id": "albingest-alb-connection-overview",
        "title": "ALB connection log overview",
        "description": "Application Load Balancer connection logs loaded by albingest: TLS handshakes by verification status, handshake latency, verification failures, TLS versions and ciphers, clients and listeners.",
        "pattern_id": CONNECTION_PATTERN_ID,
        "pattern": "alb-connection-logs-*",
        "panels": [
            ("connections-by-verify-status", "ALB connections over time by TLS verify status",
             "Connections per interval, stacked by aws.elb.tls_verify_status (Success / Failed).", "histogram",
             lambda fl: [count_metric(label="Connections"), date_histogram(fl), terms("3", "aws.elb.tls_verify_status", 5, schema="group", label="Verify status")],
             None),
            ("tls-handshake-latency", "ALB TLS handshake latency percentiles",
             "p50 / p95 / p99 of aws.elb.tls_handshake_latency (seconds).", "line",
             lambda fl: [field_metric("percentiles", "aws.elb.tls_handshake_latency", "TLS handshake latency (s)", percents=[50, 95, 99]), date_histogram(fl)],
             None),
            ("verify-failures", "ALB TLS verification failures by error code",
             "Failed client certificate verifications by aws.elb.tls_error_code.", "pie",
             lambda fl: [count_metric(label="Connections"), terms("2", "aws.elb.tls_error_code", 15, schema="segment", label="Error code")],
             "aws.elb.tls_verify_status:Failed"),
            ("tls-versions", "ALB connection TLS versions and ciphers", "Connections by tls.version and tls.cipher.", "table",
             lambda fl: [count_metric(label="Connections"), terms("2", "tls.version", 5, label="TLS version"), terms("3", "tls.cipher", 10, label="Cipher")],
             None),
            ("top-clients", "ALB connection top client IPs", "Clients (source.ip) with the most connections.", "table",
             lambda fl: [count_metric(label="Connections"), terms("2", "source.ip", 20, label="Client IP")],
             None),
            ("listeners", "ALB connections by listener port", "Connections by destination.port (the listener).", "table",
             lambda fl: [count_metric(label="Connections"), terms("2", "destination.port", 10, label="Listener port")],
             None),
        ],
    },
]


def format_overview_objects(flavour, overview):
    """The index pattern, the charts, a link to the ALB overview and the dashboard of one
    FORMAT_OVERVIEWS entry."""
    board = overview["id"]
    stem = board.removesuffix("-overview")
    objects = [index_pattern(overview["pattern_id"], overview["pattern"])]
    layout = []
    for n, (suffix, title, description, chart, aggs, extra) in enumerate(overview["panels"]):
        agg_list = aggs(flavour)
        metric = agg_list[0]["params"].get("customLabel", "Connections")
        if chart == "table":
            params = table_params(per_page=20)
        elif chart == "pie":
            params = PIE_PARAMS
        else:
            unit = "Bytes" if chart == "line" and metric.endswith("bytes") else metric
            params = xy_params(chart, "stacked" if chart == "histogram" else "normal", unit, metric)
        query = REQUESTS_QUERY if extra is None else f"{REQUESTS_QUERY} and {extra}"
        obj_id = f"{stem}-{suffix}"
        objects.append(
            visualization(obj_id, title, description, chart, agg_list, params, pattern=overview["pattern_id"], query=query)
        )
        layout.append(("visualization", obj_id, 24 * (n % 2), 15 * (n // 2), 24, 15))
    link_id = f"{stem}-link-overview"
    objects.append(
        markdown(
            link_id,
            f"{overview['title']} (link)",
            "Link to the ALB overview dashboard.",
            "**Requests:** [ALB overview](#/view/albingest-alb-overview)",
        )
    )
    rows = (len(overview["panels"]) + 1) // 2
    layout.append(("visualization", link_id, 0, 15 * rows, 48, 4))
    objects.append(dashboard(board, overview["title"], overview["description"], layout))
    return objects


def dashboard(obj_id, title, description, layout):
    panels, references = [], []
    for n, (panel_type, panel_id, x, y, w, h) in enumerate(layout):
        index = str(n + 1)
        panels.append(
            {
                "version": "7.10.0",
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                "panelIndex": index,
                "embeddableConfig": {},
                "panelRefName": f"panel_{n}",
            }
        )
        references.append({"name": f"panel_{n}", "type": panel_type, "id": panel_id})
    return {
        "type": "dashboard",
        "id": obj_id,
        "attributes": {
            "title": title,
            "description": description,
            "hits": 0,
            "panelsJSON": dumps(panels),
            "optionsJSON": dumps({"hidePanelTitles": False, "useMargins": True}),
            "version": 1,
            "timeRestore": True,
            "timeFrom": "now-24h",
            "timeTo": "now",
            "refreshInterval": {"pause": True, "value": 0},
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": dumps({"query": {"query": "", "language": "kuery"}, "filter": []})
            },
        },
        "references": references,
        "migrationVersion": {"dashboard": MIGRATION["dashboard"]},
    }


def render(flavour):
    return "".join(dumps(obj) + "\n" for obj in saved_objects(flavour))


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for flavour in ("opensearch-dashboards", "kibana"):
        path = HERE / flavour / "alb-overview.ndjson"
        text = render(flavour)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run python3 deploy/dashboards/generate.py): " + ", ".join(stale), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
