"""``registry-upload attest FILES``: the terminal side of :func:`registry_upload.attest.attest`.

For pipelines that sign in one job and upload in another: it writes
``<file>.publish.attestation`` beside each distribution and uploads nothing.
The CLI adds the command with :func:`add_attest_parser` and runs it with
:func:`run_attest` (after expanding globs); importing this module costs only
``argparse``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "add_attest_parser", "run_attest"]

EXIT_FAILED = 1
EXIT_USAGE = 2


def add_attest_parser(sub: Any) -> None:
    """Add the ``attest`` command to the CLI's sub-commands."""
    cmd = sub.add_parser(
        "attest",
        help="sign a PEP 740 publish attestation for each distribution (uploads nothing)",
        epilog="Signs with the CI's OIDC identity (GitHub Actions `id-token: write`, GitLab "
        "`id_tokens: SIGSTORE_ID_TOKEN: {aud: sigstore}`, Google Cloud's service account). "
        "Exit codes: 0 ok, 1 signing failed, 2 usage or bad input.",
    )
    cmd.add_argument("files", nargs="+", help="files, directories (e.g. dist/) or globs")
    cmd.add_argument(
        "--trust-config",
        metavar="FILE",
        help="a Sigstore ClientTrustConfig JSON for a private instance (default: "
        "$REGISTRY_UPLOAD_SIGSTORE_TRUST_CONFIG, else the production Sigstore)",
    )
    cmd.add_argument(
        "--overwrite", action="store_true", help="sign again where an attestation exists"
    )
    cmd.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    cmd.add_argument("-v", "--verbose", action="store_true")


def run_attest(args: argparse.Namespace, files: Sequence[str], out: TextIO | None = None) -> int:
    """Sign, print one line per file (or JSON), return the exit code."""
    from ..attest import attest
    from ..errors import ConfigurationError, CredentialError, DistributionError, RegistryUploadError

    out = out or sys.stdout
    try:
        report = attest(files, trust_config=args.trust_config, overwrite=args.overwrite)
    except RegistryUploadError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {exc.hint}\n")
        usage = (ConfigurationError, CredentialError, DistributionError)
        return EXIT_USAGE if isinstance(exc, usage) else EXIT_FAILED
    if args.json:
        out.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return 0
    for path, reason in report.notes:
        sys.stderr.write(f"note: {path}: {reason}\n")
    for item in report.files:
        where = f" (log index {item.log_index})" if item.log_index is not None else ""
        out.write(f"{item.status:>6}  {item.attestation_path}{where}\n")
    who = report.publisher.describe() if report.publisher else "an unknown publisher"
    out.write(f"{len(report.signed)} signed as {who}, against {report.sigstore}\n")
    return 0
