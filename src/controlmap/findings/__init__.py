"""Findings: the engine that runs checks over an inventory, and the finding model it produces."""
