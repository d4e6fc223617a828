"""Build a project and upload it, then act on the typed result.

    python examples/build_and_upload.py [PROJECT_DIR]

Where to upload comes from REGISTRY_UPLOAD_REPOSITORY_URL (default PyPI) and
the credentials from the usual chain (REGISTRY_UPLOAD_USERNAME/_PASSWORD,
TWINE_*, .pypirc, keyring, CI tokens).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import registry_upload


def main() -> int:
    project = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "sample-project")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", out, str(project)],
            check=True,
            capture_output=True,
        )
        files = sorted(Path(out).iterdir())

        # 1. Check first: nothing is sent if a file would be rejected.
        report = registry_upload.check(files)
        if not report.ok:
            for finding in report.errors:
                print(f"{finding.path}: {finding.message} ({finding.hint})")
            return 1

        # 2. Upload; per-file failures are in the report, not exceptions.
        result = registry_upload.upload(files, skip_existing=True)
        for item in result:
            print(f"{item.status}: {item.filename} sha256={item.sha256} attempts={item.attempts}")
            if item.error is not None:
                print(f"  {item.error.message}\n  hint: {item.hint}")
        print(f"credentials from: {result.credential_source}")
        return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
