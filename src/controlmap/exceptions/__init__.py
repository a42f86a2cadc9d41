"""Approved exceptions: the reviewed ``exceptions.yaml``, its validation, and applying it to a scan."""

from controlmap.exceptions.apply import (
    apply_exceptions,
    expired,
    expired_matching,
    expired_summary,
    noticed,
    unused,
)
from controlmap.exceptions.loader import (
    DEFAULT_FILE,
    check_exceptions,
    find_exceptions_file,
    load_exceptions,
    review,
)
from controlmap.exceptions.model import ExceptionEntry, ExceptionsFile, ResourceSelector

__all__ = [
    "DEFAULT_FILE",
    "ExceptionEntry",
    "ExceptionsFile",
    "ResourceSelector",
    "apply_exceptions",
    "check_exceptions",
    "expired",
    "expired_matching",
    "expired_summary",
    "find_exceptions_file",
    "load_exceptions",
    "noticed",
    "review",
    "unused",
]
