"""The ``exportctl`` command line: thin commands over the core modules."""
