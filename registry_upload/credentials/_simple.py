"""Explicit values, environment variables, netrc and the interactive prompt."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ._types import Credentials, Secret, Skip, Target

__all__ = ["EnvProvider", "ExplicitProvider", "NetrcProvider", "PromptProvider"]

logger = logging.getLogger(__name__)


class ExplicitProvider:
    """Values the caller passed (``-u/-p``, ``upload(username=..., password=...)``)."""

    name = "explicit"

    def __init__(self, username: str | None = None, password: str | Secret | None = None) -> None:
        self.username = username
        self.password = (
            password if isinstance(password, Secret) or password is None else Secret(password)
        )

    def __repr__(self) -> str:
        return f"ExplicitProvider(username={self.username!r}, password={self.password!r})"

    def provide(self, target: Target) -> Credentials | None:
        if self.password is None and self.username is None:
            raise Skip("no username or password given")
        username = self.username or target.username or "__token__"
        return Credentials(
            username=username, password=self.password or Secret(""), source=self.name
        )


class FixedProvider:
    """Credentials known before the chain is asked (written into the URL: source ``url``)."""

    def __init__(self, credentials: Credentials, name: str = "url") -> None:
        self.name = name
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"FixedProvider({self.name!r}, username={self._credentials.username!r})"

    def provide(self, target: Target) -> Credentials | None:
        return self._credentials


class EnvProvider:
    """The environment, first set wins: ``REGISTRY_UPLOAD_USERNAME``/``_PASSWORD``,
    twine's ``TWINE_USERNAME``/``_PASSWORD``, uv's ``UV_PUBLISH_USERNAME``/``_PASSWORD``
    and ``UV_PUBLISH_TOKEN``.

    A password without a username means an API token: the username is
    ``__token__``.  Secrets from here are given for a whole run: a run with
    several registries refuses them (see :func:`registry_upload.publish.publish`).
    """

    name = "env"
    PREFIXES = ("REGISTRY_UPLOAD", "TWINE", "UV_PUBLISH")

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = env

    def provide(self, target: Target) -> Credentials | None:
        env = os.environ if self._env is None else self._env
        for prefix in self.PREFIXES:
            user_var, pass_var = f"{prefix}_USERNAME", f"{prefix}_PASSWORD"
            password, username = env.get(pass_var), env.get(user_var)
            if prefix == "UV_PUBLISH" and not password and env.get("UV_PUBLISH_TOKEN"):
                pass_var, password, username = "UV_PUBLISH_TOKEN", env["UV_PUBLISH_TOKEN"], None
            if password:
                return Credentials(
                    username=username or target.username or "__token__",
                    password=Secret(password),
                    source=f"env:{pass_var}",
                )
            if username:
                return Credentials(username=username, password=Secret(""), source=f"env:{user_var}")
        raise Skip(
            "REGISTRY_UPLOAD_PASSWORD, TWINE_PASSWORD and UV_PUBLISH_PASSWORD/_TOKEN are not set"
        )


class NetrcProvider:
    """``~/.netrc`` (or ``$NETRC``, or a given file), matched on the URL's host.

    A file that cannot be read or parsed is skipped with the problem and its
    line number, never the parser's words: they quote the file's tokens, and
    a misplaced password is one of them.
    """

    name = "netrc"

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._path = path

    def provide(self, target: Target) -> Credentials | None:
        path = self._path or os.environ.get("NETRC") or Path.home() / ".netrc"
        if not Path(path).is_file():
            raise Skip(f"no netrc file at {path}")
        import netrc

        host = urlsplit(target.url).hostname or ""
        try:
            entry = netrc.netrc(os.fspath(path)).authenticators(host)
        except netrc.NetrcParseError as exc:
            raise Skip(_netrc_problem(path, exc)) from None
        except OSError as exc:
            raise Skip(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
        if not entry:
            raise Skip(f"no machine {host} in {path}")
        login, _account, password = entry
        if not password:
            raise Skip(f"machine {host} in {path} has no password")
        return Credentials(
            username=login or target.username or "__token__",
            password=Secret(password),
            source=f"netrc:{host}",
        )


class PromptProvider:
    """Ask on the terminal; only when allowed, not ``non_interactive``, and standard
    input is a TTY.

    End of input (Ctrl-D) at either question declines (the chain goes on); Ctrl-C
    raises ``KeyboardInterrupt`` as anywhere else (the CLI exits 130).
    """

    name = "prompt"

    def __init__(self, *, allowed: bool = False, non_interactive: bool = False) -> None:
        self.allowed = allowed
        self.non_interactive = non_interactive

    def provide(self, target: Target) -> Credentials | None:
        if self.non_interactive:
            raise Skip("non-interactive mode: not prompting")
        if not self.allowed:
            raise Skip("prompting is off (non-interactive)")
        if not sys.stdin or not sys.stdin.isatty():
            raise Skip("standard input is not a terminal")
        import getpass

        where = target.name or target.url
        username = target.username
        try:
            if not username:
                username = input(f"Username for {where} [__token__]: ").strip() or "__token__"
            password = getpass.getpass(f"Password or token for {username} at {where}: ")
        except EOFError:
            raise Skip("end of input at the prompt (Ctrl-D): nothing entered") from None
        if not password:
            raise Skip("no password entered")
        return Credentials(username=username, password=Secret(password), source=self.name)


def _netrc_problem(path: str | os.PathLike[str], exc: Exception) -> str:
    """What is wrong with a netrc file, in our words: the parser's quote its tokens."""
    said = str(getattr(exc, "msg", ""))
    if said.startswith("~/.netrc"):  # the owner or permission check of the default file
        fix = "it must belong to you and be readable by you alone (chmod 600)"
        return f"{path} is refused: {fix}"
    line = getattr(exc, "lineno", None)
    where = f" at line {line}" if line else ""
    return (
        f"cannot parse {path}{where}: expected 'machine <host> login <name> password <secret>' "
        "(or 'default ...', 'macdef <name>')"
    )
