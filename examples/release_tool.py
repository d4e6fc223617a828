"""A small custom release tool: its own credential provider and a progress callback.

    python examples/release_tool.py REPOSITORY_URL TOKEN_FILE FILE...

The token lives in a file (think: a secret mounted by your CI or a vault
agent); the tool plugs a provider for it in front of the default chain and
reports progress through its own callback.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from registry_upload import CredentialChain, Credentials, Secret, Target, Uploader
from registry_upload.uploader import ProgressEvent


class TokenFileProvider:
    """Credentials from a token file: first line 'username', second line the token."""

    name = "token-file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def provide(self, target: Target) -> Credentials | None:
        if not self.path.is_file():
            return None
        username, token = self.path.read_text().splitlines()[:2]
        return Credentials(
            username=username, password=Secret(token), source=f"token-file:{self.path}"
        )


class Progress:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, int] = {}

    def __call__(self, event: ProgressEvent) -> None:
        with self.lock:
            if event.kind == "progress":
                self.sent[event.filename] = event.bytes_sent
            elif event.kind == "finished" and event.result is not None:
                print(
                    f"[release] {event.filename}: {event.result.status} "
                    f"({self.sent.get(event.filename, 0)} bytes sent)"
                )


def main(argv: list[str]) -> int:
    url, token_file, *files = argv
    chain = CredentialChain.default()
    chain.insert_before("env", TokenFileProvider(Path(token_file)))
    with Uploader(url, credentials=chain, on_event=Progress(), jobs=2) as uploader:
        report = uploader.upload(files)
    print(
        f"[release] credentials: {report.credential_source}; "
        f"{report.uploaded} uploaded, {report.failed} failed"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
