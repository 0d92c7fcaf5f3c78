"""`python -m kgrag` runs the CLI."""

from kgrag.cli import app

app()
