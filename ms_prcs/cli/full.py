"""The whole command line with every command module imported: what the docs' CLI reference (mkdocs-click,
which reads ``main.commands`` as it finds it) and the tests that walk every command read."""

from ms_prcs.cli import load_all, main

load_all()

__all__ = ["main"]
