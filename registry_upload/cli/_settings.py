"""From flags and the environment to what the library takes, in one place (private).

Precedence, for every setting: a flag, then ``REGISTRY_UPLOAD_*``, then
twine's ``TWINE_*``, then uv's ``UV_PUBLISH_*`` (and ``REQUESTS_CA_BUNDLE``
last for the CA bundle).  Where the files go is decided by
:mod:`registry_upload._target` (also used by the library); this module adds
the CLI-only settings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError

__all__ = ["Settings", "settings_from"]

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    """What one ``upload`` run does: its destinations, credentials and options."""

    destinations: tuple[str, ...]
    username: str | None
    password: str | None
    credentials: Any  # a CredentialChain for --trusted-publishing always/never, else None
    pypirc: str | None
    index_urls: Mapping[str, str]
    options: Any  # PublishOptions (imported late: the CLI starts fast)
    #: Where each setting came from, for -v (never a secret).
    sources: Mapping[str, str]


def settings_from(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    """Turn ``upload``'s flags and the environment into a :class:`Settings`."""
    from .._target import resolve_target
    from ..options import DEFAULT_JOBS, PublishOptions
    from ..transport import TransportOptions

    environ = os.environ if env is None else env
    sources: dict[str, str] = {}
    destinations = list(args.destinations or [])
    if not destinations:
        target = resolve_target(pypirc=args.config_file, env=environ)
        destinations = [target.repository.name or target.repository.url]
        sources["target"] = target.source
    username, password = _explicit_credentials(args)
    ca_cert = _first(environ, sources, "cert", args.cert, _CERT_VARIABLES)
    client_cert = _first(environ, sources, "client-cert", args.client_cert, _CLIENT_CERT_VARIABLES)
    non_interactive = args.non_interactive or _flag(environ, _NON_INTERACTIVE_VARIABLES)
    index_urls = _index_urls(args, environ, destinations, sources)
    attestations = not (
        args.no_attestations
        if args.no_attestations is not None
        else _flag(environ, _NO_ATTESTATIONS_VARIABLES)
    )
    options = PublishOptions(
        skip_existing=args.skip_existing or "check-url" in sources,
        dry_run=args.dry_run,
        verify=args.verify,
        verify_timeout=args.verify_timeout,
        keep_going=args.keep_going,
        jobs=args.jobs or DEFAULT_JOBS,
        retry=_retry(args),
        transport=TransportOptions(ca_cert=ca_cert, client_cert=client_cert),
        timeout=args.timeout,
        attestations=attestations,
        interactive=not non_interactive and sys.stdin is not None and sys.stdin.isatty(),
        allow_insecure=args.allow_insecure,
        allow_anonymous=args.allow_anonymous,
        blake2=args.blake2,
        comment=args.comment,
    )
    mode = _first(environ, sources, "trusted-publishing", args.trusted_publishing, _TP_VARIABLES)
    return Settings(
        destinations=tuple(destinations),
        username=username,
        password=password,
        credentials=_chain_for(mode, username, password, args.config_file, options.interactive),
        pypirc=args.config_file,
        index_urls=index_urls,
        options=options,
        sources=sources,
    )


_CERT_VARIABLES = ("REGISTRY_UPLOAD_CERT", "TWINE_CERT", "REQUESTS_CA_BUNDLE")
_CLIENT_CERT_VARIABLES = ("REGISTRY_UPLOAD_CLIENT_CERT", "TWINE_CLIENT_CERT")
_NON_INTERACTIVE_VARIABLES = ("REGISTRY_UPLOAD_NON_INTERACTIVE", "TWINE_NON_INTERACTIVE")
_NO_ATTESTATIONS_VARIABLES = ("REGISTRY_UPLOAD_NO_ATTESTATIONS", "UV_PUBLISH_NO_ATTESTATIONS")
_CHECK_URL_VARIABLES = ("REGISTRY_UPLOAD_CHECK_URL", "UV_PUBLISH_CHECK_URL")
_TP_VARIABLES = ("REGISTRY_UPLOAD_TRUSTED_PUBLISHING", "UV_TRUSTED_PUBLISHING")


def _retry(args: argparse.Namespace) -> Any:
    from ..retry import RetryPolicy

    given = {"attempts": args.attempts, "confirm_timeout": args.confirm_timeout}
    return RetryPolicy(**{k: v for k, v in given.items() if v is not None})


def _first(
    env: Mapping[str, str],
    sources: dict[str, str],
    name: str,
    flag: str | None,
    variables: Sequence[str],
) -> str | None:
    """The flag's value, else the first variable set; ``sources`` records which."""
    if flag is not None:
        sources[name] = f"--{name}"
        return flag
    for variable in variables:
        value = env.get(variable, "").strip()
        if value:
            sources[name] = f"env:{variable}"
            return value
    return None


def _flag(env: Mapping[str, str], variables: Sequence[str]) -> bool:
    return any(env.get(v, "").strip().lower() in _TRUE for v in variables)


def _explicit_credentials(args: argparse.Namespace) -> tuple[str | None, str | None]:
    if args.token is None:
        return args.username, args.password
    if args.password is not None or args.username not in (None, "__token__"):
        raise ConfigurationError(
            "-t/--token takes the place of -u/-p: give one or the other",
            hint="A token's username is __token__: pass -t TOKEN alone, or -u USER -p TOKEN.",
        )
    return "__token__", args.token


def _index_urls(
    args: argparse.Namespace,
    env: Mapping[str, str],
    destinations: Sequence[str],
    sources: dict[str, str],
) -> dict[str, str]:
    """--index-url, or uv's --check-url: one registry destination's index."""
    from .._destination import is_static_destination

    check = _first(env, sources, "check-url", args.check_url, _CHECK_URL_VARIABLES)
    if args.index_url and check and args.index_url.rstrip("/") != check.rstrip("/"):
        raise ConfigurationError(
            "--index-url and --check-url name different indexes",
            hint="Give one of them: --check-url URL is --index-url URL --skip-existing.",
        )
    index = args.index_url or check
    if index is None:
        return {}
    registries = [d for d in destinations if not is_static_destination(d)]
    if len(registries) != 1:
        flag = "--index-url" if args.index_url else sources.get("check-url", "--check-url")
        raise ConfigurationError(
            f"{flag} is ambiguous with {len(registries)} registry destinations",
            hint=f"Give {flag} only with one registry destination; each registry's own "
            "index is used otherwise.",
        )
    return {registries[0]: index}


def _chain_for(
    mode: str | None,
    username: str | None,
    password: str | None,
    pypirc: str | None,
    interactive: bool,
) -> Any:
    """``--trusted-publishing never``/``always`` change the default chain; automatic
    (the default) leaves the destination to build it."""
    if mode in (None, "automatic"):
        return None
    if mode not in ("always", "never"):
        raise ConfigurationError(
            f"trusted publishing mode must be automatic, always or never, not {mode!r}",
            hint="Check UV_TRUSTED_PUBLISHING / REGISTRY_UPLOAD_TRUSTED_PUBLISHING.",
        )
    from ..credentials import CredentialChain

    chain = CredentialChain.default(
        username=username, password=password, pypirc=pypirc, interactive=interactive
    )
    if mode == "never":
        return chain.without("trusted-publishing")
    return CredentialChain(p for p in chain.providers if p.name == "trusted-publishing")
