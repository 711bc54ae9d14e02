# The smallest useful deployment: a new log bucket, bucket -> SQS -> ingest, SigV4 to an
# Amazon OpenSearch Service domain, indices kept 30 days.
#
#   cargo lambda build --release --arm64 --output-format zip      # from the repository root
#   cd deploy/terraform/examples/basic && terraform init && terraform apply

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region of the load balancers, the bucket and the functions."
  type        = string
  default     = "eu-west-1"
}

variable "log_bucket_name" {
  description = "New bucket for the load balancers' access logs."
  type        = string
}

variable "domain_endpoint" {
  description = "https:// endpoint of the OpenSearch Service domain."
  type        = string
}

variable "domain_arn" {
  description = "ARN of that domain (arn:aws:es:REGION:ACCOUNT:domain/NAME)."
  type        = string
}

module "albingest" {
  source = "../.."

  search_endpoint     = var.domain_endpoint
  auth_mode           = "sigv4"
  sigv4_service       = "es"
  search_resource_arn = var.domain_arn

  trigger_mode      = "sqs"
  create_log_bucket = true
  log_bucket_name   = var.log_bucket_name
  log_prefix        = "AWSLogs/"

  retention_days        = 30
  log_retention_in_days = 30

  tags = {
    application = "albingest"
  }
}

output "ingest_role_arn" {
  description = "Map this role in OpenSearch (fine-grained access control) so the function may write."
  value       = module.albingest.ingest_role_arn
}

output "cleanup_role_arn" {
  description = "Map this role in OpenSearch so the cleanup may list and delete indices."
  value       = module.albingest.cleanup_role_arn
}

output "log_object_prefix" {
  description = "Point the load balancers' access logs here."
  value       = module.albingest.log_object_prefix
}
