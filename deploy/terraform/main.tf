data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  ingest_name  = "${var.name_prefix}-ingest"
  cleanup_name = "${var.name_prefix}-cleanup"
  ingest_zip   = coalesce(var.ingest_zip, "${path.module}/../../target/lambda/albingest-ingest/bootstrap.zip")
  cleanup_zip  = coalesce(var.cleanup_zip, "${path.module}/../../target/lambda/albingest-cleanup/bootstrap.zip")

  use_s3          = var.trigger_mode == "s3-notification"
  use_sqs         = var.trigger_mode == "sqs"
  use_eventbridge = var.trigger_mode == "eventbridge"

  grant_es   = var.auth_mode == "sigv4" && var.sigv4_service == "es"
  grant_aoss = var.auth_mode == "sigv4" && var.sigv4_service == "aoss"
  use_vpc    = length(var.subnet_ids) > 0

  log_bucket_arn     = "arn:${local.partition}:s3:::${var.log_bucket_name}"
  dead_letter_bucket = var.dead_letter_bucket != "" ? var.dead_letter_bucket : var.log_bucket_name
  dead_letter_url    = "s3://${local.dead_letter_bucket}/${var.dead_letter_prefix}"

  # Connection settings shared by both functions. The password is read from Secrets Manager;
  # it never is a variable of this module.
  connection_env = merge(
    {
      ALBINGEST_ENDPOINT      = var.search_endpoint
      ALBINGEST_AUTH          = var.auth_mode
      ALBINGEST_SIGV4_SERVICE = var.sigv4_service
    },
    var.auth_mode == "basic" ? { ALBINGEST_USERNAME = var.basic_auth_username } : {},
    var.auth_mode == "basic" && var.basic_auth_password_secret != "" ? { ALBINGEST_PASSWORD = local.basic_password } : {},
    var.auth_mode == "apikey" && var.api_key_secret != "" ? { ALBINGEST_API_KEY = local.api_key } : {},
  )

  assume_role_arns = distinct(compact([for access in values(var.bucket_roles) : access.role_arn]))

  ingest_env = merge(local.connection_env, {
    ALBINGEST_INDEX_PREFIXES          = var.index_prefixes
    ALBINGEST_BATCH_BYTES             = tostring(var.batch_bytes)
    ALBINGEST_DEAD_LETTER             = local.dead_letter_url
    ALBINGEST_KEEP_ORIGINAL           = tostring(var.keep_original)
    ALBINGEST_SETUP                   = tostring(var.install_index_templates)
    ALBINGEST_DEADLINE_MARGIN_SECONDS = tostring(var.deadline_margin_seconds)
    ALBINGEST_DOCUMENT_IDS            = var.document_ids
    ALBINGEST_BUCKET_ROLES            = length(var.bucket_roles) == 0 ? "" : jsonencode({ for bucket, access in var.bucket_roles : bucket => { for k, v in access : k => v if v != null } })
    ALBINGEST_CONFIG                  = var.config_file
    RUST_LOG                          = var.log_level
  })

  cleanup_env = merge(local.connection_env, {
    RETENTION_DAYS           = tostring(var.retention_days)
    ALBINGEST_INDEX_PREFIXES = var.index_prefixes
    DRY_RUN                  = tostring(var.cleanup_dry_run)
    ALBINGEST_CONFIG         = var.config_file
  })
}

# ------------------------------------------------------------------ Elasticsearch API key
data "aws_secretsmanager_secret_version" "api_key" {
  count     = var.auth_mode == "apikey" && var.api_key_secret != "" ? 1 : 0
  secret_id = var.api_key_secret
}

locals {
  api_key_raw = one(data.aws_secretsmanager_secret_version.api_key[*].secret_string)
  api_key = (
    local.api_key_raw == null ? null :
    var.api_key_secret_key == "" ? local.api_key_raw :
    jsondecode(local.api_key_raw)[var.api_key_secret_key]
  )
}

# ------------------------------------------------------------------ OpenSearch Serverless
# Data access policy (AWS "Data access control for Amazon OpenSearch Serverless"; permissions
# per API: "Supported operations and plugins in Amazon OpenSearch Serverless"): ingest writes
# documents, creates the daily indices and the index templates (collection items); cleanup lists
# and deletes indices. index/*/PATTERN: the roles' IAM policy limits them to this collection.
resource "aws_opensearchserverless_access_policy" "data" {
  count       = local.grant_aoss && var.serverless_collection_name != "" ? 1 : 0
  name        = "${var.name_prefix}-data"
  type        = "data"
  description = "albingest ingest and cleanup roles"
  policy = jsonencode([
    {
      Description = "albingest ingest"
      Principal   = [aws_iam_role.ingest.arn]
      Rules = [
        {
          ResourceType = "index"
          Resource     = [for p in var.serverless_index_patterns : "index/*/${p}"]
          Permission   = ["aoss:CreateIndex", "aoss:DescribeIndex", "aoss:UpdateIndex", "aoss:WriteDocument", "aoss:ReadDocument"]
        },
        {
          ResourceType = "collection"
          Resource     = ["collection/${var.serverless_collection_name}"]
          Permission   = ["aoss:CreateCollectionItems", "aoss:UpdateCollectionItems", "aoss:DescribeCollectionItems"]
        },
      ]
    },
    {
      Description = "albingest cleanup"
      Principal   = [aws_iam_role.cleanup.arn]
      Rules = [
        {
          ResourceType = "index"
          Resource     = [for p in var.serverless_index_patterns : "index/*/${p}"]
          Permission   = ["aoss:DescribeIndex", "aoss:DeleteIndex"]
        },
      ]
    },
  ])
}

# ------------------------------------------------------------------ basic auth password
data "aws_secretsmanager_secret_version" "basic_password" {
  count     = var.auth_mode == "basic" && var.basic_auth_password_secret != "" ? 1 : 0
  secret_id = var.basic_auth_password_secret
}

locals {
  basic_password_raw = one(data.aws_secretsmanager_secret_version.basic_password[*].secret_string)
  basic_password = (
    local.basic_password_raw == null ? null :
    var.basic_auth_password_secret_key == "" ? local.basic_password_raw :
    jsondecode(local.basic_password_raw)[var.basic_auth_password_secret_key]
  )
}

# ------------------------------------------------------------------ dead letters (messages)
# Everything that could not be delivered ends here as an event the ingest function accepts:
# notifications that failed sqs_max_receive_count times, asynchronous invocations that failed
# their retries, EventBridge events that could not be delivered.
resource "aws_sqs_queue" "dead_letter" {
  name_prefix               = "${var.name_prefix}-dead-letter-"
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = var.tags
}

data "aws_iam_policy_document" "dead_letter_queue" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.dead_letter.arn]
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

  dynamic "statement" {
    for_each = local.use_eventbridge ? [1] : []
    content {
      sid       = "EventBridgeDeadLetters"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.dead_letter.arn]
      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [aws_cloudwatch_event_rule.ingest[0].arn]
      }
    }
  }
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy    = data.aws_iam_policy_document.dead_letter_queue.json
}

# ------------------------------------------------------------------ log groups
resource "aws_cloudwatch_log_group" "ingest" {
  name              = "/aws/lambda/${local.ingest_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "cleanup" {
  name              = "/aws/lambda/${local.cleanup_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# ------------------------------------------------------------------ roles
data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ingest" {
  name_prefix        = "${var.name_prefix}-ingest-"
  description        = "albingest ingest function"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = var.tags
}

resource "aws_iam_role" "cleanup" {
  name_prefix        = "${var.name_prefix}-cleanup-"
  description        = "albingest cleanup function"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = var.tags
}

data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.ingest.arn}:*"]
  }

  statement {
    sid       = "ReadLogObjects"
    actions   = ["s3:GetObject"]
    resources = ["${local.log_bucket_arn}/${var.log_prefix}*"]
  }

  # The object checkpoint (tag albingest-checkpoint) when the server makes the document ids.
  statement {
    sid       = "CheckpointLogObjects"
    actions   = ["s3:GetObjectTagging", "s3:PutObjectTagging"]
    resources = ["${local.log_bucket_arn}/${var.log_prefix}*"]
  }

  dynamic "statement" {
    for_each = length(var.extra_log_buckets) == 0 ? [] : [1]
    content {
      sid       = "ReadExtraLogBuckets"
      actions   = ["s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging"]
      resources = [for b in var.extra_log_buckets : "arn:${local.partition}:s3:::${b.bucket}/${b.prefix}*"]
    }
  }

  # Reading other accounts' buckets (bucket_roles): only the roles named there.
  dynamic "statement" {
    for_each = length(local.assume_role_arns) == 0 ? [] : [1]
    content {
      sid       = "AssumeBucketRoles"
      actions   = ["sts:AssumeRole"]
      resources = local.assume_role_arns
    }
  }

  statement {
    sid       = "WriteDeadLetters"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${local.dead_letter_bucket}/${var.dead_letter_prefix}*"]
  }

  statement {
    sid       = "FailedInvocations"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }

  dynamic "statement" {
    for_each = local.use_sqs ? [1] : []
    content {
      sid       = "ConsumeQueue"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
      resources = [aws_sqs_queue.ingest[0].arn]
    }
  }

  dynamic "statement" {
    for_each = local.grant_es ? [1] : []
    content {
      sid       = "SearchDomain"
      actions   = ["es:ESHttpPost", "es:ESHttpPut", "es:ESHttpGet", "es:ESHttpDelete", "es:ESHttpHead"]
      resources = [var.search_resource_arn, "${var.search_resource_arn}/*"]
    }
  }

  dynamic "statement" {
    for_each = local.grant_aoss ? [1] : []
    content {
      sid       = "SearchCollection"
      actions   = ["aoss:APIAccessAll"]
      resources = [var.search_resource_arn]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [1]
    content {
      sid       = "CustomerManagedKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.kms_key_arn]
    }
  }
}

data "aws_iam_policy_document" "cleanup" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.cleanup.arn}:*"]
  }

  dynamic "statement" {
    for_each = local.grant_es ? [1] : []
    content {
      sid       = "SearchDomain"
      actions   = ["es:ESHttpGet", "es:ESHttpDelete"]
      resources = [var.search_resource_arn, "${var.search_resource_arn}/*"]
    }
  }

  dynamic "statement" {
    for_each = local.grant_aoss ? [1] : []
    content {
      sid       = "SearchCollection"
      actions   = ["aoss:APIAccessAll"]
      resources = [var.search_resource_arn]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [1]
    content {
      sid       = "CustomerManagedKey"
      actions   = ["kms:Decrypt"]
      resources = [var.kms_key_arn]
    }
  }
}

resource "aws_iam_role_policy" "ingest" {
  name   = "ingest"
  role   = aws_iam_role.ingest.id
  policy = data.aws_iam_policy_document.ingest.json
}

resource "aws_iam_role_policy" "cleanup" {
  name   = "cleanup"
  role   = aws_iam_role.cleanup.id
  policy = data.aws_iam_policy_document.cleanup.json
}

locals {
  # Managed policies a role needs only for an option: ENIs in a VPC, X-Ray segments.
  optional_managed_policies = concat(
    local.use_vpc ? ["arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"] : [],
    var.tracing_mode == "Active" ? ["arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"] : [],
  )
}

resource "aws_iam_role_policy_attachment" "ingest_optional" {
  for_each   = toset(local.optional_managed_policies)
  role       = aws_iam_role.ingest.name
  policy_arn = each.value
}

resource "aws_iam_role_policy_attachment" "cleanup_optional" {
  for_each   = toset(local.optional_managed_policies)
  role       = aws_iam_role.cleanup.name
  policy_arn = each.value
}

# ------------------------------------------------------------------ functions
resource "aws_lambda_function" "ingest" {
  function_name                  = local.ingest_name
  description                    = "albingest - load balancer access logs from S3 into OpenSearch / Elasticsearch"
  filename                       = local.ingest_zip
  source_code_hash               = filebase64sha256(local.ingest_zip)
  handler                        = "bootstrap"
  runtime                        = "provided.al2023"
  architectures                  = ["arm64"]
  memory_size                    = var.ingest_memory_size
  timeout                        = var.ingest_timeout
  role                           = aws_iam_role.ingest.arn
  reserved_concurrent_executions = var.ingest_reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags

  environment {
    variables = local.ingest_env
  }

  tracing_config {
    mode = var.tracing_mode
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.ingest.name
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
  }

  dynamic "vpc_config" {
    for_each = local.use_vpc ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  lifecycle {
    precondition {
      condition     = var.auth_mode != "sigv4" || var.search_resource_arn != ""
      error_message = "auth_mode sigv4 needs search_resource_arn (the domain or collection ARN)."
    }
    precondition {
      condition     = var.auth_mode != "basic" || (var.basic_auth_username != "" && var.basic_auth_password_secret != "")
      error_message = "auth_mode basic needs basic_auth_username and basic_auth_password_secret."
    }
    precondition {
      condition     = var.auth_mode != "apikey" || var.api_key_secret != ""
      error_message = "auth_mode apikey needs api_key_secret."
    }
  }

  depends_on = [aws_iam_role_policy.ingest, aws_iam_role_policy_attachment.ingest_optional]
}

resource "aws_lambda_function" "cleanup" {
  function_name    = local.cleanup_name
  description      = "albingest - deletes daily log indices older than the retention"
  filename         = local.cleanup_zip
  source_code_hash = filebase64sha256(local.cleanup_zip)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  memory_size      = var.cleanup_memory_size
  timeout          = var.cleanup_timeout
  role             = aws_iam_role.cleanup.arn
  # One cleanup at a time: a late run never races the next one. ingest_reserved_concurrency -1
  # means the account has no concurrency to reserve, for either function.
  reserved_concurrent_executions = var.ingest_reserved_concurrency == -1 ? -1 : 1
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags

  environment {
    variables = local.cleanup_env
  }

  tracing_config {
    mode = var.tracing_mode
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.cleanup.name
  }

  dynamic "vpc_config" {
    for_each = local.use_vpc ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  depends_on = [aws_iam_role_policy.cleanup, aws_iam_role_policy_attachment.cleanup_optional]
}

# ------------------------------------------------------------------ cleanup schedule
resource "aws_cloudwatch_event_rule" "cleanup" {
  name_prefix         = "${var.name_prefix}-cleanup-"
  description         = "albingest cleanup of old daily indices"
  schedule_expression = var.cleanup_schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "cleanup" {
  rule = aws_cloudwatch_event_rule.cleanup.name
  arn  = aws_lambda_function.cleanup.arn

  retry_policy {
    maximum_retry_attempts       = 2
    maximum_event_age_in_seconds = 3600
  }
}

resource "aws_lambda_permission" "cleanup_schedule" {
  statement_id  = "cleanup-schedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.cleanup.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.cleanup.arn
}
