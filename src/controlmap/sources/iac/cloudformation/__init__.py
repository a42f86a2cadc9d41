"""CloudFormation and SAM templates (YAML and JSON) read into normalized resource models."""
