"""Infrastructure as code: CloudFormation/SAM templates and Terraform (HCL and plan JSON)."""
