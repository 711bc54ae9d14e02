#!/usr/bin/env python3
# Copied unchanged (but for this comment) from the project's shared benchmark kit
# (bench/gen_alb.py beside the repository on the development machine), so that a fresh clone can
# make the benchmark inputs of BENCHMARKS.md and scripts/bench-e2e.
"""Deterministic synthetic AWS Application Load Balancer access-log generator.

    gen_alb.py --lines N --seed S [--gzip] -o FILE

Stdlib only. The same (N, seed, --gzip) always gives byte-identical output
(gzip header mtime is fixed to 0).

Field order follows the current ALB access-log entry syntax:

  type time elb client:port target:port request_processing_time
  target_processing_time response_processing_time elb_status_code
  target_status_code received_bytes sent_bytes "request" "user_agent"
  ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
  "chosen_cert_arn" matched_rule_priority request_creation_time
  "actions_executed" "redirect_url" "error_reason" "target:port_list"
  "target_status_code_list" "classification" "classification_reason"
  conn_trace_id

Mix (approximate share of lines):
  * forwarded to instance/IP targets (http/https/h2/grpcs/ws/wss)   ~79%
  * Lambda targets (target "-"; some 502 with a Lambda* error_reason)  ~5%
  * redirect actions (301/302, redirect_url set, -1 times)             ~3%
  * fixed-response actions                                             ~2%
  * ELB-generated errors: 460, 502, 503, 504, 400 (incl. malformed
    request line "- http://host:80- -"), WAF 403, authenticate 401/500 ~6%
  * IPv6 clients (written without brackets, as ALB does)              ~15%
  * user agents containing \\" escaped quotes                          ~1.5%
  * desync-mitigation classification set (Acceptable/Ambiguous)       ~0.5%
  * one extra unknown trailing field (AWS says: ignore unexpected
    trailing fields)                                                    ~1%
Line lengths are mostly ~300-900 bytes; a few long query strings go beyond.
"""
import argparse
import gzip
import io
import random
import sys
from datetime import datetime, timedelta, timezone

ACCOUNT = "123456789012"
REGION = "us-east-1"
BASE_TIME = datetime(2026, 11, 24, 10, 0, 0, tzinfo=timezone.utc)

ELBS = [
    "app/prod-web-alb/50dc6c495c0c9188",
    "app/prod-api-alb/7f0dc2b05788640f",
    "app/awseb-AWSEB-1MVD8OW91UMOH/a32a5528b8fdaa6b",
]
HOSTS = [
    "www.example.com", "api.example.com", "shop.example.com",
    "static.example.com", "auth.example.org", "grpc.example.net",
]
TARGET_GROUPS = [
    "web-tg/73e2d6bc24d8a067", "api-tg/5a03cc723870f039",
    "shop-blue/91f0a6c2d7e3b415", "shop-green/0c8d2e4f6a1b3c5d",
]
LAMBDA_TG = "lambda-thumbs/2b4c6d8e0f1a3b5c"
GRPC_TG = "grpc-tg/6e5d4c3b2a190817"
CERTS = [
    "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    "arn:aws:acm:us-east-1:123456789012:certificate/d8450a8a-b4f6-4714-8535-17c625c36899",
]
CIPHERS_12 = [
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
]
CIPHERS_13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.107 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.51",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/2.0",
    "okhttp/4.12.0",
    "Amazon CloudFront",
    "aws-sdk-java/2.29.6 Linux/6.1.112 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS Java/21.0.5 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/standard",
    "PostmanRuntime/7.42.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
]
# User agents that contain double quotes; ALB escapes them as \"
QUOTED_UAS = [
    'Mozilla/5.0 (compatible; "EvilScanner"/1.0)',
    'sqlmap/1.8 (https://sqlmap.org) "; DROP TABLE users; --',
    'Mozilla/5.0 "like Gecko" (Windows NT 10.0)',
    '"quoted-agent"',
]
GRPC_UAS = ["grpc-go/1.68.0", "grpc-java-netty/1.68.1", "grpc-python/1.67.1 grpc-c/43.0.0 (linux; chttp2)"]
WORDS = [
    "products", "catalog", "users", "orders", "cart", "checkout", "search", "images",
    "assets", "v1", "v2", "api", "account", "settings", "reports", "export", "items",
    "reviews", "categories", "static", "js", "css", "health", "login", "logout",
]
QUERY_KEYS = [
    "q", "page", "limit", "offset", "sort", "order", "utm_source", "utm_medium",
    "utm_campaign", "utm_content", "fbclid", "gclid", "session", "lang", "filter",
    "fields", "include", "token", "redirect_uri", "state", "ref",
]
LAMBDA_ERRORS = ["LambdaInvalidResponse", "LambdaUnhandled", "LambdaThrottling", "LambdaResponseTooLarge"]
AUTH_ERRORS = ["AuthInvalidCookie", "AuthInvalidIdToken", "AuthTokenEpRequestFailed", "AuthMissingStateParam"]
WAF_ERRORS = ["WAFConnectionTimeout", "WAFServiceError"]
CLASS_REASONS = {
    "Acceptable": ["NonCompliantHeader", "SpaceInUri", "SuspiciousHeader"],
    "Ambiguous": ["UndefinedContentLengthSemantics", "UndefinedTransferEncodingSemantics", "AmbiguousUri"],
}


def hexs(r, n):
    return "%0*x" % (n, r.getrandbits(4 * n))


def client_addr(r):
    port = r.randint(1024, 65535)
    if r.random() < 0.15:  # IPv6, unbracketed (as ALB writes it)
        groups = [hexs(r, 4).lstrip("0") or "0" for _ in range(8)]
        if r.random() < 0.4:  # compressed form
            return "%s:%s:%s::%s:%d" % (groups[0], groups[1], groups[2], groups[7], port)
        return "%s:%d" % (":".join(groups), port)
    return "%d.%d.%d.%d:%d" % (r.choice([3, 18, 34, 52, 54, 66, 73, 81, 91, 104, 151, 172, 185, 203]),
                               r.randint(0, 255), r.randint(0, 255), r.randint(1, 254), port)


def target_addr(r):
    if r.random() < 0.03:
        return "fd6d:6bbc:c529:%x::%s:%d" % (r.randint(0, 255), hexs(r, 4), r.choice([80, 8080]))
    return "10.%d.%d.%d:%d" % (r.randint(0, 3), r.randint(0, 255), r.randint(1, 254), r.choice([80, 8080, 8000, 9000, 3000]))


def path_and_query(r, long_query=False):
    segs = [r.choice(WORDS) for _ in range(r.randint(1, 4))]
    if r.random() < 0.5:
        segs.append(str(r.randint(1, 9999999)))
    if r.random() < 0.2:
        segs.append(hexs(r, 32))
    if r.random() < 0.15:
        segs[-1] += r.choice([".js", ".css", ".png", ".jpg", ".json", ".html", ".svg", ".woff2"])
    p = "/" + "/".join(segs)
    nq = 0
    if long_query:
        nq = r.randint(8, 22)
    elif r.random() < 0.55:
        nq = r.randint(1, 5)
    if nq:
        parts = []
        for _ in range(nq):
            k = r.choice(QUERY_KEYS)
            v = r.choice([
                str(r.randint(0, 1000)),
                hexs(r, r.choice([8, 16, 32])),
                r.choice(WORDS) + "%20" + r.choice(WORDS),
                "https%3A%2F%2F" + r.choice(HOSTS) + "%2F" + r.choice(WORDS),
                "asc", "desc", "en-US", "de-DE",
            ])
            parts.append("%s=%s" % (k, v))
        p += "?" + "&".join(parts)
    return p


def fmt_time(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%06dZ" % t.microsecond


def fmt_creation(t):
    # request_creation_time is logged with millisecond precision padded to 6 digits
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d000Z" % (t.microsecond // 1000)


def fmt_secs(x):
    return "-1" if x is None else "%.3f" % x


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_line(r, i, n):
    # ---- timing: roughly increasing, with jitter (ALB files are not strictly sorted)
    t = BASE_TIME + timedelta(seconds=300.0 * i / max(n, 1) + r.uniform(-0.5, 0.5))
    t = t.replace(tzinfo=None)

    roll = r.random()
    if roll < 0.79:
        scenario = "forward"
    elif roll < 0.84:
        scenario = "lambda"
    elif roll < 0.87:
        scenario = "redirect"
    elif roll < 0.89:
        scenario = "fixed"
    elif roll < 0.905:
        scenario = "e460"
    elif roll < 0.915:
        scenario = "e502"
    elif roll < 0.92:
        scenario = "e503"
    elif roll < 0.927:
        scenario = "e504"
    elif roll < 0.932:
        scenario = "e400"
    elif roll < 0.937:
        scenario = "waf"
    elif roll < 0.94:
        scenario = "auth"
    else:
        scenario = "forward"

    # ---- connection type
    if scenario == "forward":
        typ = r.choices(["https", "h2", "http", "grpcs", "ws", "wss"], [45, 28, 17, 5, 2, 3])[0]
    elif scenario in ("redirect",):
        typ = "http" if r.random() < 0.85 else "https"
    elif scenario in ("e400",):
        typ = "http" if r.random() < 0.7 else "https"
    else:
        typ = r.choices(["https", "h2", "http"], [50, 30, 20])[0]
    tls = typ in ("https", "h2", "grpcs", "wss")

    host = "grpc.example.net" if typ == "grpcs" else r.choice(HOSTS[:-1])
    port = 443 if tls else 80
    scheme = "https" if tls else "http"
    proto = "HTTP/2.0" if typ in ("h2", "grpcs") else "HTTP/1.1"
    long_query = r.random() < 0.05
    pq = path_and_query(r, long_query)

    if typ == "grpcs":
        method = "POST"
        pq = "/%s.v1.%sService/%s" % (r.choice(["orders", "users", "catalog"]), r.choice(["Order", "User", "Item"]),
                                      r.choice(["Get", "List", "Create", "StreamUpdates"]))
    elif typ in ("ws", "wss"):
        method = "GET"
        pq = "/socket.io/?EIO=4&transport=websocket&sid=" + hexs(r, 20)
    else:
        method = r.choices(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"], [70, 15, 5, 3, 3, 3, 1])[0]
    request = "%s %s://%s:%d%s %s" % (method, scheme, host, port, pq, proto)

    # ---- user agent
    ua_roll = r.random()
    if typ == "grpcs":
        ua = r.choice(GRPC_UAS)
    elif ua_roll < 0.015:
        ua = r.choice(QUOTED_UAS)
    elif ua_roll < 0.03 or typ in ("ws", "wss") and ua_roll < 0.3:
        ua = "-"
    else:
        ua = r.choice(USER_AGENTS)

    client = client_addr(r)
    elb = ELBS[i % len(ELBS)] if r.random() < 0.2 else ELBS[0]

    if tls:
        if r.random() < 0.6:
            cipher, sslp = r.choice(CIPHERS_13), "TLSv1.3"
        else:
            cipher, sslp = r.choice(CIPHERS_12), "TLSv1.2"
        domain = host
        cert = "session-reused" if r.random() < 0.3 else r.choice(CERTS)
    else:
        cipher = sslp = "-"
        domain = "-"
        cert = "-"

    trace = "Root=1-%08x-%s" % (int(t.replace(tzinfo=timezone.utc).timestamp()), hexs(r, 24))
    if r.random() < 0.05:
        trace = "Self=1-%08x-%s;%s" % (int(t.replace(tzinfo=timezone.utc).timestamp()), hexs(r, 24), trace)

    tg_arn = "arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s" % (
        REGION, ACCOUNT, GRPC_TG if typ == "grpcs" else r.choice(TARGET_GROUPS))
    rule = str(r.choice([0, 0, 0, 1, 2, 3, 5, 10, 20, 100, 49999]))
    actions = "forward"
    redirect_url = "-"
    error_reason = "-"
    classification = "-"
    class_reason = "-"
    received = r.randint(60, 2500) if method in ("GET", "HEAD", "OPTIONS", "DELETE") else r.randint(200, 60000)
    target = target_addr(r)

    rpt = round(r.uniform(0.0, 0.002), 3)
    spt = round(r.uniform(0.0, 0.001), 3)
    tpt = round(r.expovariate(1 / 0.08), 3)

    if scenario == "forward":
        if typ in ("ws", "wss"):
            status = tstatus = "101"
            tpt = round(r.uniform(1.0, 900.0), 3)
            sent = r.randint(500, 5_000_000)
        else:
            status = r.choices(["200", "201", "204", "301", "302", "304", "400", "401", "403", "404", "409", "429", "500", "503"],
                               [70, 3, 3, 1, 3, 6, 2, 2, 1, 5, 1, 1, 1, 1])[0]
            tstatus = status
            sent = r.randint(200, 250_000) if status in ("200", "201") else r.randint(100, 2000)
        if r.random() < 0.15:
            actions = "waf,forward"
        elif tls and r.random() < 0.05:
            actions = "authenticate,forward"
        tlist, tslist = target, tstatus
    elif scenario == "lambda":
        target = "-"
        tg_arn = "arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s" % (REGION, ACCOUNT, LAMBDA_TG)
        tpt = round(r.uniform(0.005, 3.0), 3)
        if r.random() < 0.12:
            status, tstatus = "502", "-"
            error_reason = r.choice(LAMBDA_ERRORS)
            sent = r.randint(250, 300)
        else:
            status = tstatus = r.choice(["200", "200", "200", "200", "404", "500"])
            sent = r.randint(100, 1_000_000)
        tlist = tslist = "-"
    elif scenario == "redirect":
        target = "-"
        rpt = tpt = spt = None
        status, tstatus = r.choice(["301", "301", "302"]), "-"
        actions = "redirect"
        redirect_url = "https://%s:443%s" % (host, pq)
        tg_arn = "-"
        sent = r.randint(250, 400)
        tlist = tslist = "-"
    elif scenario == "fixed":
        target = "-"
        rpt = tpt = spt = None
        status, tstatus = r.choice(["200", "404", "503"]), "-"
        actions = r.choice(["fixed-response", "waf,fixed-response"])
        tg_arn = "-"
        sent = r.randint(150, 1200)
        tlist = tslist = "-"
    elif scenario == "e460":
        # client closed the connection before the load balancer could respond
        tpt = spt = None
        status, tstatus = "460", "-"
        sent = 0
        tlist, tslist = target, "-"
    elif scenario == "e502":
        tpt = spt = None
        status, tstatus = "502", "-"
        sent = r.randint(250, 350)
        tlist, tslist = target, "-"
    elif scenario == "e503":
        target = "-"
        rpt = tpt = spt = None
        status, tstatus = "503", "-"
        sent = r.randint(250, 350)
        tlist = tslist = "-"
    elif scenario == "e504":
        rpt = 0.0
        tpt = spt = None
        status, tstatus = "504", "-"
        sent = r.randint(250, 350)
        tlist, tslist = target, "-"
    elif scenario == "e400":
        target = "-"
        rpt = tpt = spt = None
        status, tstatus = "400", "-"
        sent = 272
        tg_arn = "-"
        trace = "-"
        domain = "-" if r.random() < 0.5 else domain
        cert = "-" if domain == "-" else cert
        rule = "-"
        actions = "-"
        tlist = tslist = "-"
        ua = "-" if r.random() < 0.6 else ua
        if r.random() < 0.6:  # unparseable request line
            request = "- %s://%s:%d- -" % (scheme, host, port)
            received = 0
    elif scenario == "waf":
        target = "-"
        rpt = tpt = spt = None
        status, tstatus = "403", "-"
        actions = "waf"
        if r.random() < 0.2:
            error_reason = r.choice(WAF_ERRORS)
            actions = "waf-failed"
            status = "500"
        sent = r.randint(150, 400)
        tlist = tslist = "-"
    else:  # auth
        target = "-"
        rpt = tpt = spt = None
        status, tstatus = r.choice(["401", "500"]), "-"
        actions = "authenticate"
        error_reason = r.choice(AUTH_ERRORS)
        sent = r.randint(150, 400)
        tlist = tslist = "-"

    if r.random() < 0.005 and scenario == "forward":
        classification = r.choice(["Acceptable", "Ambiguous"])
        class_reason = r.choice(CLASS_REASONS[classification])

    total = sum(x for x in (rpt, tpt, spt) if x is not None)
    created = t - timedelta(seconds=total + r.uniform(0.0, 0.002))

    fields = [
        typ, fmt_time(t), elb, client, target,
        fmt_secs(rpt), fmt_secs(tpt), fmt_secs(spt),
        status, tstatus, str(received), str(sent),
        q(request), q(ua), cipher, sslp, tg_arn,
        q(trace), q(domain), q(cert), rule, fmt_creation(created),
        q(actions), q(redirect_url), q(error_reason),
        q(tlist), q(tslist), q(classification), q(class_reason),
        "TID_" + hexs(r, 32),
    ]
    if r.random() < 0.01:
        # a field AWS may add in future; consumers must ignore unknown trailing fields
        fields.append(q(r.choice(["-", host, "rewrite-applied", pq[:40]])))
    return " ".join(fields)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--gzip", action="store_true", help="write gzip (as ALB delivers to S3)")
    ap.add_argument("-o", "--output", required=True, help="output file ('-' for stdout, plain only)")
    a = ap.parse_args(argv)

    r = random.Random(a.seed)
    buf = io.StringIO()
    for i in range(a.lines):
        buf.write(make_line(r, i, a.lines))
        buf.write("\n")
    data = buf.getvalue().encode("utf-8")

    if a.output == "-":
        if a.gzip:
            sys.exit("refusing to write gzip to stdout")
        sys.stdout.buffer.write(data)
        return
    if a.gzip:
        with open(a.output, "wb") as f:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=6) as g:
                g.write(data)
    else:
        with open(a.output, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
