"""``.pypirc``, read exactly as twine reads it, plus lookup by URL."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigurationError
from ..repository import PYPI_UPLOAD_URL, TESTPYPI_UPLOAD_URL
from ._types import Credentials, Secret, Skip, Target

__all__ = [
    "PypircProvider",
    "PypircSection",
    "default_pypirc_path",
    "find_section",
    "load_pypirc",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PypircSection:
    """One repository of a .pypirc: its URL and optional credentials."""

    name: str
    repository: str | None
    username: str | None = None
    password: Secret | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    credential_helper: str | None = None


def default_pypirc_path() -> Path:
    return Path(os.path.expanduser("~")) / ".pypirc"


def load_pypirc(path: str | os.PathLike[str] | None = None) -> dict[str, PypircSection]:
    """Sections by name; the built-in ``pypi`` and ``testpypi`` are always there.

    A missing default file is an empty config; a missing explicit file, or an
    unparsable one, is a :class:`ConfigurationError`.
    """
    import configparser

    explicit = path is not None
    real = Path(path) if path is not None else default_pypirc_path()
    parser = configparser.RawConfigParser()
    try:
        with open(real, encoding="utf-8") as fh:
            parser.read_file(fh)
        logger.debug("using configuration from %s", real)
    except FileNotFoundError:
        if explicit:
            raise ConfigurationError(
                f"{real}: no such .pypirc file",
                hint="Check the --config-file path.",
                path=str(real),
            ) from None
    except (configparser.Error, UnicodeDecodeError, OSError) as exc:
        raise ConfigurationError(
            f"{real}: cannot be parsed: {_describe(exc)}",
            hint="A .pypirc is an INI file: [distutils] index-servers = ..., then one "
            "[section] per repository with repository/username/password (and optionally "
            "credential_helper).",
            path=str(real),
        ) from None

    def get(section: str, key: str) -> str | None:
        return parser.get(section, key, fallback=None) if parser.has_section(section) else None

    default_user = get("distutils", "username")
    default_pass = get("distutils", "password")
    servers = (get("distutils", "index-servers") or "pypi testpypi").split()
    names = ["pypi", *[s for s in servers if s != "pypi"]]
    builtin = {"pypi": PYPI_UPLOAD_URL, "testpypi": TESTPYPI_UPLOAD_URL}
    sections: dict[str, PypircSection] = {}
    for name in names:
        if name == "testpypi" and name not in servers:
            continue
        password = get(name, "password") or default_pass
        sections[name] = PypircSection(
            name=name,
            repository=get(name, "repository") or builtin.get(name),
            username=get(name, "username") or default_user,
            password=Secret(password) if password else None,
            ca_cert=get(name, "ca_cert"),
            client_cert=get(name, "client_cert"),
            credential_helper=get(name, "credential_helper"),
        )
    return sections


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def find_section(sections: dict[str, PypircSection], target: Target) -> PypircSection | None:
    """The section named ``target.name``, else the one whose repository is ``target.url``."""
    section = sections.get(target.name) if target.name else None
    if section is not None:
        return section
    return next(
        (s for s in sections.values() if s.repository and _same_url(s.repository, target.url)),
        None,
    )


class PypircProvider:
    """Credentials from a .pypirc section chosen by name, or else by URL."""

    name = "pypirc"

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._path = path

    def provide(self, target: Target) -> Credentials | None:
        section = find_section(load_pypirc(self._path), target)
        if section is None:
            raise Skip(f"no .pypirc section for {target.name or target.url}")
        if section.password:
            return Credentials(
                username=section.username or "__token__",
                password=section.password,
                source=f"pypirc:{section.name}",
            )
        if section.username:
            return Credentials(
                username=section.username, password=Secret(""), source=f"pypirc:{section.name}"
            )
        raise Skip(f".pypirc section [{section.name}] has no username or password")


def _describe(exc: Exception) -> str:
    """What is wrong, by line number: a configuration line is never echoed (it may hold a
    password)."""
    import configparser

    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"line {exc.lineno} comes before any [section] header"
    if isinstance(exc, configparser.ParsingError):
        lines = ", ".join(str(lineno) for lineno, _ in exc.errors)
        return f"line(s) {lines} are neither a [section] nor a key = value"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"line {exc.lineno}: key {exc.option!r} repeated in [{exc.section}]"
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"line {exc.lineno}: section [{exc.section}] repeated"
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 (byte {exc.start})"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__
