# ------------------------------------------------------------------ code
variable "name_prefix" {
  description = "The functions are named PREFIX-ingest and PREFIX-cleanup."
  type        = string
  default     = "albingest"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name_prefix))
    error_message = "name_prefix: 1-40 letters, digits, - or _."
  }
}

variable "ingest_zip" {
  description = "Zip of the ingest function as built by `cargo lambda build --release --arm64 --output-format zip`; null = target/lambda/albingest-ingest/bootstrap.zip of this repository."
  type        = string
  default     = null
}

variable "cleanup_zip" {
  description = "Zip of the cleanup function; null = target/lambda/albingest-cleanup/bootstrap.zip of this repository."
  type        = string
  default     = null
}

# ------------------------------------------------------------------ search server
variable "search_endpoint" {
  description = "URL of the OpenSearch / Elasticsearch REST API (ALBINGEST_ENDPOINT)."
  type        = string

  validation {
    condition     = can(regex("^https?://[^\\s/]+(/.*)?$", var.search_endpoint))
    error_message = "search_endpoint must be an http:// or https:// URL."
  }
}

variable "auth_mode" {
  description = "ALBINGEST_AUTH: sigv4 (sign with the function's role), basic (username + password from Secrets Manager), apikey (Elasticsearch API key from Secrets Manager) or none."
  type        = string
  default     = "sigv4"

  validation {
    condition     = contains(["sigv4", "basic", "apikey", "none"], var.auth_mode)
    error_message = "auth_mode must be sigv4, basic, apikey or none."
  }
}

variable "sigv4_service" {
  description = "ALBINGEST_SIGV4_SERVICE: es (OpenSearch Service domain) or aoss (OpenSearch Serverless collection)."
  type        = string
  default     = "es"

  validation {
    condition     = contains(["es", "aoss"], var.sigv4_service)
    error_message = "sigv4_service must be es or aoss."
  }
}

variable "search_resource_arn" {
  description = "Domain ARN (es) or collection ARN (aoss) the functions may call; required with auth_mode sigv4."
  type        = string
  default     = ""

  validation {
    condition     = var.search_resource_arn == "" || can(regex("^arn:aws[a-z-]*:(es|aoss):[a-z0-9-]+:[0-9]{12}:(domain|collection)/[A-Za-z0-9-]+$", var.search_resource_arn))
    error_message = "search_resource_arn must be empty, a domain ARN or a collection ARN."
  }
}

variable "basic_auth_username" {
  description = "ALBINGEST_USERNAME, with auth_mode basic only."
  type        = string
  default     = ""
}

variable "basic_auth_password_secret" {
  description = "With auth_mode basic: name or ARN of the Secrets Manager secret holding the password (ALBINGEST_PASSWORD). Terraform reads it, so it is in the state: protect the state."
  type        = string
  default     = ""
}

variable "basic_auth_password_secret_key" {
  description = "JSON key of the password inside that secret; empty when the secret is the plain password."
  type        = string
  default     = "password"
}

variable "api_key_secret" {
  description = "With auth_mode apikey: name or ARN of the Secrets Manager secret holding the encoded Elasticsearch API key (ALBINGEST_API_KEY). Terraform reads it, so it is in the state: protect the state."
  type        = string
  default     = ""
}

variable "api_key_secret_key" {
  description = "JSON key of the API key inside that secret; empty when the secret is the plain encoded key."
  type        = string
  default     = ""
}

variable "serverless_collection_name" {
  description = "With sigv4_service aoss: the OpenSearch Serverless collection's name. When set, the module creates the data access policy for both roles on serverless_index_patterns; empty: you grant it."
  type        = string
  default     = ""
}

variable "serverless_index_patterns" {
  description = "Index patterns of the data access policy, one PREFIX* per index prefix the functions use."
  type        = list(string)
  default     = ["alb-logs*", "alb-connection-logs*", "nlb-logs*", "elb-logs*"]
}

# ------------------------------------------------------------------ bucket and trigger
variable "trigger_mode" {
  description = "How new log objects reach the ingest function: s3-notification, sqs (bucket -> queue -> function) or eventbridge."
  type        = string
  default     = "sqs"

  validation {
    condition     = contains(["s3-notification", "sqs", "eventbridge"], var.trigger_mode)
    error_message = "trigger_mode must be s3-notification, sqs or eventbridge."
  }
}

variable "create_log_bucket" {
  description = "true: create log_bucket_name (encrypted, private, ALB log delivery allowed, notification for trigger_mode). false: use that existing bucket; its owner sets the notification."
  type        = bool
  default     = true
}

variable "log_bucket_name" {
  description = "The bucket the load balancers write their access logs to."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.log_bucket_name))
    error_message = "log_bucket_name must be an S3 bucket name."
  }
}

variable "log_prefix" {
  description = "Key prefix of the log objects (the load balancer's prefix, then AWSLogs/). The ingest function may read under it only."
  type        = string
  default     = "AWSLogs/"
}

variable "dead_letter_bucket" {
  description = "Bucket for documents the search server rejected; empty = the log bucket."
  type        = string
  default     = ""
}

variable "dead_letter_prefix" {
  description = "Key prefix for rejected documents (ALBINGEST_DEAD_LETTER = s3://BUCKET/PREFIX); keep it outside log_prefix."
  type        = string
  default     = "albingest-dead-letter/"

  validation {
    condition     = can(regex("^[^*?]+/$", var.dead_letter_prefix))
    error_message = "dead_letter_prefix must end in /."
  }
}

variable "sqs_batch_size" {
  description = "trigger_mode sqs: messages (log objects) per invocation."
  type        = number
  default     = 5

  validation {
    condition     = var.sqs_batch_size >= 1 && var.sqs_batch_size <= 10
    error_message = "sqs_batch_size must be 1-10."
  }
}

variable "sqs_maximum_concurrency" {
  description = "trigger_mode sqs: at most this many concurrent invocations from the queue (keep it <= ingest_reserved_concurrency)."
  type        = number
  default     = 10

  validation {
    condition     = var.sqs_maximum_concurrency >= 2 && var.sqs_maximum_concurrency <= 1000
    error_message = "sqs_maximum_concurrency must be 2-1000."
  }
}

variable "sqs_max_receive_count" {
  description = "trigger_mode sqs: deliveries of a message before it moves to the dead-letter queue."
  type        = number
  default     = 5
}

# ------------------------------------------------------------------ ingest function
variable "index_prefixes" {
  description = "ALBINGEST_INDEX_PREFIXES: comma list of [FORMAT=]PREFIX; empty = built-in prefixes. The cleanup uses the same list."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9_.,=-]*$", var.index_prefixes))
    error_message = "index_prefixes: a comma list of [FORMAT=]PREFIX."
  }
}

variable "batch_bytes" {
  description = "ALBINGEST_BATCH_BYTES: upper bound of one _bulk request body."
  type        = number
  default     = 5242880
}

variable "keep_original" {
  description = "ALBINGEST_KEEP_ORIGINAL: store the raw line in event.original (doubles storage)."
  type        = bool
  default     = false
}

variable "install_index_templates" {
  description = "ALBINGEST_SETUP: install the index templates at cold start."
  type        = bool
  default     = true
}

variable "deadline_margin_seconds" {
  description = "ALBINGEST_DEADLINE_MARGIN_SECONDS: stop this long before the function's timeout."
  type        = number
  default     = 10
}

variable "config_file" {
  description = "ALBINGEST_CONFIG: the albingest configuration file (labels, routing, drop/sample, privacy, enrichment) as TOML, or s3://bucket/key (grant the function s3:GetObject on it). Empty: none."
  type        = string
  default     = ""
}

variable "document_ids" {
  description = "ALBINGEST_DOCUMENT_IDS: auto (deterministic ids until the target refuses them, then the server's, kept idempotent by the log object's tag albingest-checkpoint), deterministic or server."
  type        = string
  default     = "auto"
  validation {
    condition     = contains(["auto", "deterministic", "server"], var.document_ids)
    error_message = "document_ids must be auto, deterministic or server."
  }
}

variable "log_level" {
  description = "RUST_LOG of the ingest function."
  type        = string
  default     = "info"
}

variable "ingest_memory_size" {
  description = "Memory of the ingest function in MB."
  type        = number
  default     = 1024
}

variable "ingest_timeout" {
  description = "Timeout of the ingest function in seconds; the SQS visibility timeout is 6x this."
  type        = number
  default     = 300

  validation {
    condition     = var.ingest_timeout >= 30 && var.ingest_timeout <= 900
    error_message = "ingest_timeout must be 30-900."
  }
}

variable "ingest_reserved_concurrency" {
  description = "Reserved concurrency of the ingest function (caps parallel writers to the search server; the cleanup reserves 1); -1 = no reservation for either function."
  type        = number
  default     = 10
}

# ------------------------------------------------------------------ cleanup function
variable "retention_days" {
  description = "RETENTION_DAYS: the cleanup deletes daily indices older than this."
  type        = number
  default     = 30

  validation {
    condition     = var.retention_days >= 1
    error_message = "retention_days must be at least 1."
  }
}

variable "cleanup_schedule" {
  description = "When the cleanup runs (EventBridge schedule expression, UTC)."
  type        = string
  default     = "cron(15 0 * * ? *)"
}

variable "cleanup_dry_run" {
  description = "DRY_RUN: log what the cleanup would delete, delete nothing."
  type        = bool
  default     = false
}

variable "cleanup_memory_size" {
  description = "Memory of the cleanup function in MB."
  type        = number
  default     = 256
}

variable "cleanup_timeout" {
  description = "Timeout of the cleanup function in seconds."
  type        = number
  default     = 120
}

# ------------------------------------------------------------------ operations
variable "log_retention_in_days" {
  description = "Retention of the functions' CloudWatch log groups."
  type        = number
  default     = 30
}

variable "kms_key_arn" {
  description = "Optional customer managed KMS key for the functions' environment, the log groups and the queues (its key policy must allow logs, s3 and events to use it). null = AWS managed keys."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Optional subnets to run the functions in (VPC domain); they need a route to S3. Empty = no VPC."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the functions when subnet_ids is set."
  type        = list(string)
  default     = []
}

variable "tracing_mode" {
  description = "X-Ray tracing of the functions: Active or PassThrough."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

# ------------------------------------------------------------------ alarms
variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify (ALARM and OK); null = a topic created here when alarm_email is set, else the alarms notify nobody (they still show in CloudWatch)."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "With alarm_topic_arn null: create an SNS topic with this e-mail subscription (the address must confirm it)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address."
  }
}

variable "failure_documents_threshold" {
  description = "Alarm when more than this many lines in 5 minutes do not parse (the FailureDocuments metric)."
  type        = number
  default     = 100
}

variable "oldest_event_age_seconds" {
  description = "Alarm when the oldest event waiting for the ingest function is older than this (queue age with sqs, AsyncEventAge otherwise)."
  type        = number
  default     = 900
}

# ------------------------------------------------------------------ many buckets, accounts, regions
variable "extra_log_buckets" {
  description = "More buckets the ingest function reads (other regions, a central log archive): GetObject and the checkpoint tag under prefix; with the sqs trigger their S3 notifications may reach the queue (account_id: the bucket owner, null = this account). Wire each bucket's notification yourself (deploy/README.md)."
  type = list(object({
    bucket     = string
    prefix     = optional(string, "AWSLogs/")
    account_id = optional(string)
  }))
  default = []
}

variable "bucket_roles" {
  description = "ALBINGEST_BUCKET_ROLES: bucket => the role to read it with (role_arn, external_id) and its region; the function may assume exactly these roles. Buckets not named are read with the function's own role."
  type = map(object({
    role_arn    = optional(string)
    external_id = optional(string)
    region      = optional(string)
  }))
  default = {}
}
