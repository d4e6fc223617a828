"""``python -m registry_upload``."""

import sys

from .cli import main

sys.exit(main())
