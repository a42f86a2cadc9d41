"""Renderers of findings and scans: console, JSON, CSV, Markdown, JUnit, SARIF, ASFF, OCSF, HTML."""
