"""Normalized resource models: filled by every source (live AWS, IaC, AWS Config), read by checks."""
