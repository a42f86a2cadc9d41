"""Terraform: HCL root modules (with local modules) and ``terraform show -json`` plans."""
