# Alarms on the functions, the queues and the ingest function's own metrics.
#
# AWS metrics: docs.aws.amazon.com "Types of metrics for Lambda functions" (Errors, Sum;
# AsyncEventAge, milliseconds, asynchronous invocations) and "Available CloudWatch metrics for
# Amazon SQS" (ApproximateNumberOfMessagesVisible, ApproximateAgeOfOldestMessage, seconds,
# dimension QueueName). The function's own metrics: the EMF records of src/metrics.rs (namespace
# albingest, dimension FunctionName; README "Alarms and metrics"). tests/deploy_assets.rs checks
# that every albingest metric named here is one the function emits.

locals {
  create_alarm_topic = var.alarm_topic_arn == null && var.alarm_email != null
  alarm_actions = (
    var.alarm_topic_arn != null ? [var.alarm_topic_arn] :
    local.create_alarm_topic ? [aws_sns_topic.alarms[0].arn] : []
  )

  # name => what the alarm watches. Thresholds: "more than".
  alarms = merge(
    {
      "ingest-errors" = {
        description = "The ingest function failed invocations (objects are delivered again; see its log)."
        namespace   = "AWS/Lambda"
        metric      = "Errors"
        dimensions  = { FunctionName = aws_lambda_function.ingest.function_name }
        statistic   = "Sum"
        period      = 300
        threshold   = 0
      }
      "cleanup-errors" = {
        description = "The cleanup function failed a run (old indices may stay; see its log)."
        namespace   = "AWS/Lambda"
        metric      = "Errors"
        dimensions  = { FunctionName = aws_lambda_function.cleanup.function_name }
        statistic   = "Sum"
        period      = 3600
        threshold   = 0
      }
      "dead-letter-queue-not-empty" = {
        description = "Events failed all their deliveries and wait in the dead-letter queue (replay them by invoking the ingest function)."
        namespace   = "AWS/SQS"
        metric      = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = aws_sqs_queue.dead_letter.name }
        statistic   = "Maximum"
        period      = 300
        threshold   = 0
      }
      "dead-lettered-documents" = {
        description = "The search server refused documents for themselves; they are in the dead-letter location (fix the mapping, then replay them)."
        namespace   = "albingest"
        metric      = "DeadLettered"
        dimensions  = { FunctionName = aws_lambda_function.ingest.function_name }
        statistic   = "Sum"
        period      = 300
        threshold   = 0
      }
      "unplaced-documents" = {
        description = "Documents were neither indexed nor dead-lettered (the target refused them or the deadline came); their objects failed and are delivered again."
        namespace   = "albingest"
        metric      = "Unplaced"
        dimensions  = { FunctionName = aws_lambda_function.ingest.function_name }
        statistic   = "Sum"
        period      = 300
        threshold   = 0
      }
      "failure-documents" = {
        description = "More than failure_documents_threshold lines in 5 minutes did not parse."
        namespace   = "albingest"
        metric      = "FailureDocuments"
        dimensions  = { FunctionName = aws_lambda_function.ingest.function_name }
        statistic   = "Sum"
        period      = 300
        threshold   = var.failure_documents_threshold
      }
    },
    local.use_sqs ? {
      "ingest-queue-age" = {
        description = "The oldest notification in the ingest queue waits longer than oldest_event_age_seconds."
        namespace   = "AWS/SQS"
        metric      = "ApproximateAgeOfOldestMessage"
        dimensions  = { QueueName = aws_sqs_queue.ingest[0].name }
        statistic   = "Maximum"
        period      = 300
        threshold   = var.oldest_event_age_seconds
      }
      } : {
      "ingest-event-age" = {
        description = "The oldest event in the function's asynchronous queue waits longer than oldest_event_age_seconds."
        namespace   = "AWS/Lambda"
        metric      = "AsyncEventAge"
        dimensions  = { FunctionName = aws_lambda_function.ingest.function_name }
        statistic   = "Maximum"
        period      = 300
        threshold   = var.oldest_event_age_seconds * 1000
      }
    }
  )
}

# Encrypted with kms_key_arn when given (its key policy must let cloudwatch.amazonaws.com use
# it); not with the AWS managed aws/sns key, to which CloudWatch alarms cannot publish
# (docs.aws.amazon.com "Using Amazon CloudWatch alarms": encrypted SNS topics need a
# customer managed key).
resource "aws_sns_topic" "alarms" {
  count             = local.create_alarm_topic ? 1 : 0
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = local.create_alarm_topic ? 1 : 0
  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}
