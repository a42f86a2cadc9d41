"""Live, read-only collection from an AWS account through boto3."""
