"""The ``controlmap`` command line."""
