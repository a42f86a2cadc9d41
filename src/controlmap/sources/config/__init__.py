"""AWS Config configuration items as a source."""
