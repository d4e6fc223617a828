"""A nox session that builds and publishes.

export REGISTRY_UPLOAD_REPOSITORY_URL=... REGISTRY_UPLOAD_PASSWORD=...
nox -f examples/noxfile.py -s publish
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nox

HERE = Path(__file__).parent


@nox.session(python=False)
def publish(session: nox.Session) -> None:
    out = tempfile.mkdtemp()
    session.run(
        "python", "-m", "build", "--no-isolation", "--outdir", out, str(HERE / "sample-project")
    )
    session.run("python", "-m", "registry_upload", "check", out)
    session.run(
        "python", "-m", "registry_upload", "upload", "--skip-existing", "--non-interactive", out
    )
