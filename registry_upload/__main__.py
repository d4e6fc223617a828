"""``python -m registry_upload``."""

from .cli import run

run()
