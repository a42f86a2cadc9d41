"""The internal static site: what is expected of every AWS resource, and where we stand."""
