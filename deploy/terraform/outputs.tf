output "ingest_function_arn" {
  description = "The ingest function."
  value       = aws_lambda_function.ingest.arn
}

output "ingest_role_arn" {
  description = "Role of the ingest function: map it to an OpenSearch role that may create and write the log indices (fine-grained access control), or name it in the collection's data access policy."
  value       = aws_iam_role.ingest.arn
}

output "cleanup_function_arn" {
  description = "The cleanup function."
  value       = aws_lambda_function.cleanup.arn
}

output "cleanup_role_arn" {
  description = "Role of the cleanup function (needs to list and delete the log indices)."
  value       = aws_iam_role.cleanup.arn
}

output "log_bucket_name" {
  description = "Bucket the load balancers write to."
  value       = var.log_bucket_name
}

output "log_object_prefix" {
  description = "Where the load balancers' access logs are expected."
  value       = "s3://${var.log_bucket_name}/${var.log_prefix}"
}

output "ingest_queue_url" {
  description = "trigger_mode sqs: queue between the bucket notification and the ingest function."
  value       = one(aws_sqs_queue.ingest[*].url)
}

output "ingest_queue_arn" {
  description = "trigger_mode sqs: destination for the notification of an existing bucket."
  value       = one(aws_sqs_queue.ingest[*].arn)
}

output "dead_letter_queue_url" {
  description = "Events that failed all their deliveries (replay them by invoking the ingest function)."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_location" {
  description = "Where documents the search server rejected are written."
  value       = local.dead_letter_url
}

output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify (null: none)."
  value       = try(local.alarm_actions[0], null)
}

output "alarm_names" {
  description = "The CloudWatch alarms."
  value       = [for a in aws_cloudwatch_metric_alarm.this : a.alarm_name]
}
