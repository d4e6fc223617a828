"""Where a release goes when the caller did not say: one documented precedence (private).

An explicit URL or ``.pypirc`` name (a flag, an argument) wins.  Otherwise
the environment names the target, in this order, the first set wins::

    REGISTRY_UPLOAD_REPOSITORY_URL, REGISTRY_UPLOAD_REPOSITORY
    TWINE_REPOSITORY_URL,           TWINE_REPOSITORY
    UV_PUBLISH_URL

so a CI job moved from twine or uv keeps its target.  Two variables that name
*different* targets are a usage error naming both, never a guess; PyPI is
the default only when no target variable is set at all.  Every answer says
where it came from (``-v`` and ``registry-upload auth`` print it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigurationError
from .registries import PYPI_UPLOAD_URL
from .repository import Repository, without_userinfo

__all__ = ["TARGET_VARIABLES", "ResolvedTarget", "resolve_target"]

#: (variable, what it holds): ``url`` or a ``.pypirc`` ``name``, in precedence order.
TARGET_VARIABLES = (
    ("REGISTRY_UPLOAD_REPOSITORY_URL", "url"),
    ("REGISTRY_UPLOAD_REPOSITORY", "name"),
    ("TWINE_REPOSITORY_URL", "url"),
    ("TWINE_REPOSITORY", "name"),
    ("UV_PUBLISH_URL", "url"),
)


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A registry to upload to, the TLS settings of its ``.pypirc`` section, and
    where the choice came from (``"--repository-url"``, ``"env:TWINE_REPOSITORY"``,
    ``"default (PyPI)"``...)."""

    repository: Repository
    source: str
    ca_cert: str | None = None
    client_cert: str | None = None


def resolve_target(
    repository_url: str | None = None,
    *,
    repository: str | None = None,
    pypirc: str | os.PathLike[str] | None = None,
    index_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ResolvedTarget:
    """The registry named by the arguments, else by the environment, else PyPI."""
    if repository_url is not None:
        return _by_url(repository_url, None, "--repository-url", index_url)
    if repository is not None:
        return _by_name(repository, "repository", pypirc, index_url)
    environ = os.environ if env is None else env
    found = [
        _from_variable(variable, kind, value, pypirc, index_url)
        for variable, kind in TARGET_VARIABLES
        if (value := environ.get(variable, "").strip())
    ]
    if not found:
        return _by_url(PYPI_UPLOAD_URL, None, "default (PyPI)", index_url)
    _refuse_disagreement(found)
    return found[0]


def _from_variable(
    variable: str, kind: str, value: str, pypirc: str | os.PathLike[str] | None, index: str | None
) -> ResolvedTarget:
    if kind == "url":
        return _by_url(value, None, f"env:{variable}", index)
    return _by_name(value, f"env:{variable}", pypirc, index)


def _by_url(url: str, name: str | None, source: str, index_url: str | None) -> ResolvedTarget:
    return ResolvedTarget(Repository(url=url, name=name, index_url=index_url), source)


def _by_name(
    name: str, source: str, pypirc: str | os.PathLike[str] | None, index_url: str | None
) -> ResolvedTarget:
    from .credentials import load_pypirc

    sections = load_pypirc(pypirc)
    section = sections.get(name)
    if section is None or not section.repository:
        raise _unknown_repository(name, sorted(sections), source)
    return ResolvedTarget(
        Repository(url=section.repository, name=name, index_url=index_url),
        source if source.startswith("env:") else f"-r {name}",
        ca_cert=section.ca_cert,
        client_cert=section.client_cert,
    )


def _refuse_disagreement(found: list[ResolvedTarget]) -> None:
    first = found[0]
    for other in found[1:]:
        if _same(first.repository.url, other.repository.url):
            continue
        raise ConfigurationError(
            f"{first.source[4:]} and {other.source[4:]} name different upload targets "
            f"({without_userinfo(first.repository.url)} and "
            f"{without_userinfo(other.repository.url)}); nothing was sent",
            hint="Unset one of them, or name the target explicitly with --repository-url "
            "or -r (an explicit target wins over the environment).",
        )


def _same(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def _unknown_repository(name: str, known: list[str], source: str) -> ConfigurationError:
    where = f" (from {source[4:]})" if source.startswith("env:") else ""
    if "://" in name:  # a URL given as a name: never echo what may be credentials in it
        return ConfigurationError(
            f"-r/--repository takes a .pypirc name, not a URL ({without_userinfo(name)!r}){where}",
            hint="Pass the URL with --repository-url (repository_url=...).",
        )
    return ConfigurationError(
        f"repository {name!r}{where} is not in .pypirc (known: {', '.join(known) or 'none'})",
        hint="Add a [name] section with repository = <upload URL>, "
        "list it in [distutils] index-servers, or pass --repository-url.",
    )
