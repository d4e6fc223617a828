"""keyring (optional extra), imported on first use; any failure is "not mine"."""

from __future__ import annotations

import logging

from ._types import Credentials, Secret, Skip, Target

__all__ = ["KeyringProvider"]

logger = logging.getLogger(__name__)


class KeyringProvider:
    """Look up the repository URL in the system keyring (as twine does)."""

    name = "keyring"

    def provide(self, target: Target) -> Credentials | None:
        try:
            import keyring
        except ImportError:
            raise Skip(
                "keyring is not installed (pip install 'registry-upload[keyring]')"
            ) from None
        username: str | None = target.username
        password: str | None
        try:
            if username is None:
                cred = keyring.get_credential(target.url, None)
                if cred is None:
                    raise Skip(f"keyring has no entry for {target.url}")
                username, password = cred.username, cred.password
            else:
                password = keyring.get_password(target.url, username)
        except Skip:
            raise
        except Exception as exc:  # any backend failure must not crash an upload
            # Only the class name: a backend's words may quote what it stores.
            raise Skip(f"keyring backend failed ({type(exc).__name__})") from None
        if not password:
            raise Skip(f"keyring has no password for {username} at {target.url}")
        return Credentials(
            username=username or "__token__",
            password=Secret(password),
            source=f"keyring:{target.url}",
        )
