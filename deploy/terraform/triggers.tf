# Trigger modes (var.trigger_mode), each with a new or an existing bucket (var.create_log_bucket):
#   s3-notification  bucket notification -> ingest function (asynchronous invocation)
#   sqs              bucket notification -> queue -> ingest function (partial batch failures,
#                    redrive to the dead-letter queue)
#   eventbridge      bucket "Object Created" events -> EventBridge rule -> ingest function
# With an existing bucket everything but the bucket's notification setting is created here;
# README.md shows the setting per mode.

# ------------------------------------------------------------------ sqs
resource "aws_sqs_queue" "ingest" {
  count                      = local.use_sqs ? 1 : 0
  name_prefix                = "${var.name_prefix}-ingest-"
  visibility_timeout_seconds = 6 * var.ingest_timeout
  message_retention_seconds  = 345600
  kms_master_key_id          = var.kms_key_arn
  sqs_managed_sse_enabled    = var.kms_key_arn == null ? true : null
  tags                       = var.tags

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.sqs_max_receive_count
  })
}

data "aws_iam_policy_document" "ingest_queue" {
  count = local.use_sqs ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.ingest[0].arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "LogBucketNotifications"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.ingest[0].arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.log_bucket_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  dynamic "statement" {
    for_each = length(var.extra_log_buckets) == 0 ? [] : [1]
    content {
      sid       = "ExtraLogBucketNotifications"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.ingest[0].arn]
      principals {
        type        = "Service"
        identifiers = ["s3.amazonaws.com"]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [for b in var.extra_log_buckets : "arn:${local.partition}:s3:::${b.bucket}"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = distinct([for b in var.extra_log_buckets : coalesce(b.account_id, local.account_id)])
      }
    }
  }
}

resource "aws_sqs_queue_policy" "ingest" {
  count     = local.use_sqs ? 1 : 0
  queue_url = aws_sqs_queue.ingest[0].id
  policy    = data.aws_iam_policy_document.ingest_queue[0].json
}

resource "aws_lambda_event_source_mapping" "ingest" {
  count                   = local.use_sqs ? 1 : 0
  event_source_arn        = aws_sqs_queue.ingest[0].arn
  function_name           = aws_lambda_function.ingest.arn
  batch_size              = var.sqs_batch_size
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.sqs_maximum_concurrency
  }
}

# ------------------------------------------------------------------ s3-notification
resource "aws_lambda_permission" "s3" {
  count          = local.use_s3 ? 1 : 0
  statement_id   = "log-bucket-notification"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.ingest.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.log_bucket_arn
  source_account = local.account_id
}

# ------------------------------------------------------------------ eventbridge
resource "aws_cloudwatch_event_rule" "ingest" {
  count       = local.use_eventbridge ? 1 : 0
  name_prefix = "${var.name_prefix}-ingest-"
  description = "New load balancer log objects -> albingest ingest"
  tags        = var.tags

  event_pattern = jsonencode({
    source      = ["aws.s3"]
    detail-type = ["Object Created"]
    detail = {
      bucket = { name = [var.log_bucket_name] }
      # Alternatives: gzip logs (ALB access, connection, health check; NLB) and plain-text
      # Classic logs, whose file names all hold _elasticloadbalancing_ (VPC flow logs in a shared
      # bucket end in .log.gz too). "*" matches any characters, "/" included ("Content
      # filtering in Amazon EventBridge event patterns", EventBridge user guide).
      object = { key = [for suffix in local.log_object_suffixes : { wildcard = "${var.log_prefix}*_elasticloadbalancing_*${suffix}" }] }
    }
  })
}

resource "aws_cloudwatch_event_target" "ingest" {
  count = local.use_eventbridge ? 1 : 0
  rule  = aws_cloudwatch_event_rule.ingest[0].name
  arn   = aws_lambda_function.ingest.arn

  retry_policy {
    maximum_retry_attempts       = 185
    maximum_event_age_in_seconds = 86400
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }
}

resource "aws_lambda_permission" "eventbridge" {
  count         = local.use_eventbridge ? 1 : 0
  statement_id  = "log-bucket-events"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.ingest.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.ingest[0].arn
}

# ------------------------------------------------------------------ log bucket (optional)
locals {
  # Regions opened before August 2022 deliver load balancer logs from these accounts; newer
  # regions use the service principal logdelivery.elasticloadbalancing.amazonaws.com.
  elb_log_delivery_accounts = {
    us-east-1      = "127311923021"
    us-east-2      = "033677994240"
    us-west-1      = "027434742980"
    us-west-2      = "797873946194"
    af-south-1     = "098369216593"
    ap-east-1      = "754344448648"
    ap-northeast-1 = "582318560864"
    ap-northeast-2 = "600734575887"
    ap-northeast-3 = "383597477331"
    ap-south-1     = "718504428378"
    ap-southeast-1 = "114774131450"
    ap-southeast-2 = "783225319266"
    ap-southeast-3 = "589379963580"
    ca-central-1   = "985666609251"
    eu-central-1   = "054676820928"
    eu-north-1     = "897822967062"
    eu-south-1     = "635631232127"
    eu-west-1      = "156460612806"
    eu-west-2      = "652711504416"
    eu-west-3      = "009996457667"
    me-south-1     = "076674570225"
    sa-east-1      = "507241528517"
    us-gov-east-1  = "190560391635"
    us-gov-west-1  = "048591011584"
  }
  elb_log_delivery_account = lookup(local.elb_log_delivery_accounts, local.region, null)
  s3_key_filter_prefix     = var.log_prefix == "" ? null : var.log_prefix
  # Every load balancer log object ends in one of these: .log.gz (ALB access, connection and
  # health check logs, NLB logs) or .log (Classic, plain text). S3 filters a notification by one
  # prefix and one suffix ("Configuring event notifications using object key name filtering",
  # Amazon S3 user guide), so each suffix gets its own notification; neither ends with the other,
  # so they do not overlap (which S3 refuses).
  log_object_suffixes = [".log.gz", ".log"]
}

resource "aws_s3_bucket" "logs" {
  count  = var.create_log_bucket ? 1 : 0
  bucket = var.log_bucket_name
  tags   = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  count                   = var.create_log_bucket ? 1 : 0
  bucket                  = aws_s3_bucket.logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  count  = var.create_log_bucket ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Load balancers deliver access logs only to buckets encrypted with SSE-S3.
resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  count  = var.create_log_bucket ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  count  = var.create_log_bucket ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  count  = var.create_log_bucket ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id

  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

data "aws_iam_policy_document" "log_bucket" {
  count = var.create_log_bucket ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.log_bucket_arn, "${local.log_bucket_arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "LoadBalancerLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${local.log_bucket_arn}/${var.log_prefix}*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = local.elb_log_delivery_account == null ? [] : [local.elb_log_delivery_account]
    content {
      sid       = "LoadBalancerLogDeliveryLegacyRegion"
      actions   = ["s3:PutObject"]
      resources = ["${local.log_bucket_arn}/${var.log_prefix}*"]
      principals {
        type        = "AWS"
        identifiers = ["arn:${local.partition}:iam::${statement.value}:root"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  count  = var.create_log_bucket ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id
  policy = data.aws_iam_policy_document.log_bucket[0].json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

resource "aws_s3_bucket_notification" "logs" {
  count       = var.create_log_bucket ? 1 : 0
  bucket      = aws_s3_bucket.logs[0].id
  eventbridge = local.use_eventbridge

  dynamic "lambda_function" {
    for_each = local.use_s3 ? local.log_object_suffixes : []
    content {
      lambda_function_arn = aws_lambda_function.ingest.arn
      events              = ["s3:ObjectCreated:*"]
      filter_prefix       = local.s3_key_filter_prefix
      filter_suffix       = lambda_function.value
    }
  }

  dynamic "queue" {
    for_each = local.use_sqs ? local.log_object_suffixes : []
    content {
      queue_arn     = aws_sqs_queue.ingest[0].arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = local.s3_key_filter_prefix
      filter_suffix = queue.value
    }
  }

  # S3 checks a destination's permission when the notification is set.
  depends_on = [aws_lambda_permission.s3, aws_sqs_queue_policy.ingest]
}
