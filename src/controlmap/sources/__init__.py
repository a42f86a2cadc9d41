"""Sources fill the normalized resource model: live AWS (boto3), IaC files, AWS Config data."""
