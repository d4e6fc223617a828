"""A credential-helper command, like git's and docker's credential helpers.

Configured per repository in ``.pypirc`` (``credential_helper = <command>``)
or for every repository by ``REGISTRY_UPLOAD_CREDENTIAL_HELPER`` (the
environment wins, as it does for passwords).  The command is split like a
shell would (no shell runs it) and called with one more argument, ``get``.

Protocol (text, UTF-8, one ``key=value`` per line, as git's)::

    stdin   url=<upload URL>
            username=<name>          (only when an earlier provider knew it)
    stdout  username=<name>          (optional: default __token__ or the known one)
            password=<secret>
            expires_at=<Unix time or ISO 8601>   (optional)

Exit status 0 with no ``password`` line means "no credentials for this
URL" and the chain moves on.  A non-zero exit, a timeout (60 s) or more than
64 KiB of output is a :class:`CredentialError`; the helper's stderr is shown
with anything it printed on stdout masked.
"""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Mapping
from pathlib import PurePath

from ..errors import ConfigurationError, CredentialError
from ._process import DEFAULT_MAX_OUTPUT, DEFAULT_TIMEOUT, parse_expiry, run_tool, which
from ._pypirc import find_section, load_pypirc
from ._types import Credentials, Secret, Skip, Target

__all__ = ["ENV_VAR", "CredentialHelperProvider", "parse_helper_output"]

logger = logging.getLogger(__name__)

ENV_VAR = "REGISTRY_UPLOAD_CREDENTIAL_HELPER"


def parse_helper_output(text: str) -> dict[str, str]:
    """``key=value`` lines; blank lines and lines without ``=`` are ignored."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            found[key.strip()] = value.rstrip("\r")
    return found


class CredentialHelperProvider:
    """Ask a configured helper command for the URL's username and password."""

    name = "credential-helper"

    def __init__(
        self,
        *,
        pypirc: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        command: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> None:
        self._pypirc = pypirc
        self._env = env
        self._command = command
        self._timeout = timeout
        self._max_output = max_output

    def provide(self, target: Target) -> Credentials | None:
        command, where = self._configured(target)
        argv = _split(command, where)
        if which(argv[0], self._env) is None:
            raise CredentialError(
                f"credential helper {argv[0]!r} ({where}) was not found",
                hint=f"Install it or put it on PATH, or fix the command in {where}.",
                url=target.url,
            )
        stdin = f"url={target.url}\n"
        if target.username:
            stdin += f"username={target.username}\n"
        output = run_tool(
            argv[0],
            [*argv[1:], "get"],
            what=f"credential helper {PurePath(argv[0]).name!r} ({where})",
            hint=f"Run `{command} get` by hand with `url={target.url}` on its input to see "
            "why it fails, or fix the command in " + where + ".",
            env=self._env,
            stdin=stdin,
            timeout=self._timeout,
            max_output=self._max_output,
            url=target.url,
            quote_stderr=False,  # its output may hold the secret in any form: never shown
        )
        answer = parse_helper_output(output.stdout)
        password = answer.get("password", "")
        if not password:
            raise Skip(f"{where}: the helper has no credentials for {target.url}")
        expires_at = None
        if answer.get("expires_at"):
            expires_at = parse_expiry(answer["expires_at"])
            if expires_at is None:
                raise CredentialError(
                    f"credential helper ({where}) printed an unreadable expires_at",
                    hint="Print expires_at as a Unix time or an ISO 8601 date and time.",
                    url=target.url,
                )
        return Credentials(
            username=answer.get("username") or target.username or "__token__",
            password=Secret(password),
            source=f"{self.name}:{PurePath(argv[0]).name}",
            expires_at=expires_at,
            details=(("configured-in", where),),
        )

    def _configured(self, target: Target) -> tuple[str, str]:
        env = os.environ if self._env is None else self._env
        if self._command:
            return self._command, "the caller"
        if env.get(ENV_VAR):
            return env[ENV_VAR], ENV_VAR
        section = find_section(load_pypirc(self._pypirc), target)
        if section is not None and section.credential_helper:
            return section.credential_helper, f".pypirc [{section.name}] credential_helper"
        raise Skip(f"no credential helper configured: no {ENV_VAR}, no .pypirc credential_helper")


def _split(command: str, where: str) -> list[str]:
    try:
        argv = shlex.split(command, posix=os.name != "nt")
    except ValueError as exc:
        raise ConfigurationError(
            f"credential helper command in {where} cannot be split: {exc}",
            hint="Quote it as you would in a POSIX shell (no shell runs it).",
        ) from None
    if not argv:
        raise ConfigurationError(
            f"credential helper command in {where} is empty",
            hint="Give the helper's command, e.g. `my-helper --profile ci`.",
        )
    return argv
