"""``python -m registry_upload``."""

import sys

try:
    from .cli import run
except KeyboardInterrupt:  # Ctrl-C while the program itself is imported
    sys.stderr.write("interrupted\n")
    sys.exit(130)

run()
