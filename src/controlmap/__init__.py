"""controlmap: an AWS security standard, as data and as checks that run everywhere resources live."""

__version__ = "0.1.0"
