"""Trusted publishing (OIDC) for PyPI and TestPyPI.

It is asked only when every earlier provider declined, so in CI a missing
OIDC token is an error with the fix, not a silent skip.

1. ``GET <index>/_/oidc/audience`` gives the audience (asked once per index).
2. The CI gives an OIDC token for it: GitHub Actions through
   ``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``; GitLab CI through
   ``<AUDIENCE>_ID_TOKEN``; Google Cloud through the metadata server's
   ``instance/service-accounts/default/identity`` (only asked when something
   says we run on Google Cloud: ``GCE_METADATA_HOST``, Cloud Run/Functions
   variables, or the machine's DMI product name, so it never waits elsewhere).
3. ``POST <index>/_/oidc/mint-token`` exchanges it for an upload token valid
   900 s; the uploader asks again before it expires.

Every token is a :class:`Secret` from the moment it is read (the OIDC token,
GitHub's request token, the minted upload token), so whatever echoes one is
masked.  The index accepts each OIDC token once (``invalid-reuse-token``):
GitHub and Google Cloud give a fresh one for every exchange, while GitLab's
``PYPI_ID_TOKEN`` is fixed for the job, so a GitLab batch that outlives its
900 s token cannot be given another (a warning, and a note in the
credentials' ``details``).  The requests go through the caller's transport
(``--cert``, ``--client-cert``, proxies): the provider's own ``transport``,
else the ``transport`` of the :class:`Target` it is asked about, else a
default one it closes itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from .._redact import redact
from .._urls import is_loopback_host
from ..errors import RegistryUploadError, TrustedPublishingError
from ..registries._pypi import warehouse_site
from ..transport import Response, Transport, TransportOptions
from ._types import CredentialKind, Credentials, Secret, Skip, Target

__all__ = ["TrustedPublishingProvider", "decode_claims"]

logger = logging.getLogger(__name__)

_SHOWN_CLAIMS = (
    "sub",
    "repository",
    "ref",
    "workflow_ref",
    "job_workflow_ref",
    "environment",
    "project_path",
    "email",
)
_GCE_PRODUCT_FILE = "/sys/class/dmi/id/product_name"
_GCE_PRODUCT_NAMES = {"Google", "Google Compute Engine"}
_GCE_RUNTIME_SIGNALS = ("K_SERVICE", "CLOUD_RUN_JOB", "FUNCTION_TARGET")
_GCE_ENV_SIGNALS = ("GCE_METADATA_HOST", *_GCE_RUNTIME_SIGNALS)
_GCE_DEFAULT_HOST = "metadata.google.internal"
_GCE_IDENTITY_PATH = "/computeMetadata/v1/instance/service-accounts/default/identity"

#: Warehouse mints upload tokens valid this long (it says so in ``expires`` too).
TOKEN_LIFETIME = 900.0
#: A re-used GitLab token with less than this left is as good as expired.
_USELESS_WITHIN = 10.0
_API_TOKEN_HINT = "or upload with an API token (username __token__) meanwhile"

#: The mint-token endpoint's error codes (warehouse ``oidc/views.py``): what each
#: means and what to change.
EXCHANGE_HINTS = {
    "not-enabled": "The index has trusted publishing turned off right now, for every CI or "
    f"for this one (an administrator's switch, usually temporary): retry later, {_API_TOKEN_HINT}.",
    "invalid-payload": "The index could not read the OIDC token: it is malformed, or its issuer "
    "is not one the index trusts (the description says which); for a pending publisher, the "
    "project could not be created. Send the token exactly as the CI issued it.",
    "invalid-token": "The OIDC token failed verification: expired, not yet valid, meant for "
    "another audience, or signed by a key the index does not know. Request it for the audience "
    "the index reports (/_/oidc/audience) right before the exchange.",
    "invalid-publisher": "The token is valid, but no trusted publisher of any project matches "
    "its claims (shown): in the project's Publishing settings on the index, check the owner, "
    "repository, workflow file name (the file that runs the publishing job) and environment.",
    "invalid-pending-publisher": "A pending publisher matched, but its project exists already, "
    "so the index removed the pending publisher: add a trusted publisher to the existing "
    "project instead.",
    "invalid-reuse-token": "The index accepts each OIDC token once, and this one was exchanged "
    "before. Request a fresh OIDC token from the CI for every exchange; GitLab's ID token is "
    "fixed for the job, so split a batch that needs more than 15 minutes across jobs, "
    f"{_API_TOKEN_HINT}.",
}
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_AUDIENCE = re.compile(r"^[\x21-\x7e]{1,256}$")
# C0/C1 controls, soft hyphen, zero-width and bidirectional marks, word joiners, BOM.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\xad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SHOWN_ERRORS = 5
_EXCERPT = 300


class _Http(Protocol):
    """What the provider needs of a transport."""

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Response: ...

    def post_json(self, url: str, payload: bytes, *, headers: Mapping[str, str]) -> Response: ...


# -- reading what servers and the CI send ----------------------------------------------


def _payload(jwt: str) -> dict[str, Any]:
    """A JWT's claims, decoded but not verified (for diagnostics only)."""
    try:
        part = jwt.split(".")[1]
        part += "=" * (-len(part) % 4)
        data = json.loads(base64.urlsafe_b64decode(part))
    except (IndexError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def decode_claims(jwt: str) -> dict[str, str]:
    """The shown claims of a JWT, decoded but not verified (for diagnostics only)."""
    return _shown(_payload(jwt))


def _shown(claims: Mapping[str, Any]) -> dict[str, str]:
    return {k: _excerpt(str(claims[k])) for k in _SHOWN_CLAIMS if k in claims}


def _json(response: Response) -> Any:
    """The body as JSON, or ``None`` (not JSON, nested too deep, not UTF-8)."""
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError):
        return None


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    """Server text fit to show: control and invisible characters dropped (before
    matching secrets, so none hides one), secrets masked (before cutting: a cut
    secret would not be recognised), one line, bounded."""
    shown = redact(" ".join(_INVISIBLE.sub(" ", text).split()))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _field(data: object, key: str) -> str | None:
    """``data[key]`` when ``data`` is a JSON object and the value a non-empty string."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def _require_private(url: str, what: str) -> None:
    """A token goes over https, or plain http to this machine only."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname)):
        return
    raise TrustedPublishingError(
        f"refusing to send {what} to {parts.scheme}://{parts.hostname}: not https",
        code="insecure-url",
        url=url,
        hint="Trusted publishing needs an https index (plain http only to this machine).",
    )


# -- the GitHub reusable-workflow rule --------------------------------------------------


def _workflow_file(ref: str) -> str:
    return ref.partition("@")[0].rsplit("/", 1)[-1]


def _check_reusable_workflow(claims: Mapping[str, Any]) -> str | None:
    """``None`` unless the job runs in a reusable workflow; then what PyPI will match.

    Warehouse matches a GitHub publisher against ``job_workflow_ref`` (the file
    that runs the job) and requires it to be ``<repository>/.github/workflows/
    <file>@<ref or sha>`` of the calling repository.  A reusable workflow of
    the same repository, at the same ref, therefore matches a publisher that
    names the *called* file, never the caller; one from another repository or
    another ref matches no publisher at all, and that is an error here.
    """
    job, caller = claims.get("job_workflow_ref"), claims.get("workflow_ref")
    if not isinstance(job, str) or not isinstance(caller, str) or not job or job == caller:
        return None
    called, calling = _workflow_file(job), _workflow_file(caller)
    repository = claims.get("repository")
    if not isinstance(repository, str) or not repository:
        return None
    path, _, at = job.partition("@")
    refs = {str(claims[k]) for k in ("ref", "sha") if claims.get(k)}
    same_repo = path.lower().startswith(f"{repository}/.github/workflows/".lower())
    if not same_repo or at not in refs:
        raise TrustedPublishingError(
            f"the publishing job runs in the reusable workflow {job}, called from {caller}; "
            "PyPI matches no trusted publisher to a reusable workflow from another repository "
            "or another ref",
            code="reusable-workflow",
            claims=_shown(claims),
            hint=f"Run the publishing step in {calling} itself (or in a workflow of "
            f"{repository} called at the same ref, registered under its "
            "own file name), and register that file as the trusted publisher.",
        )
    return (
        f"the publishing job runs in the reusable workflow {called}, called from {calling}: "
        f"PyPI matches the trusted publisher against {called}, not {calling} (warehouse "
        "calls this support for reusable workflows accidental: it may change)"
    )


# -- the provider ------------------------------------------------------------------------


class TrustedPublishingProvider:
    """Mint a short-lived PyPI/TestPyPI upload token from the CI's OIDC identity.

    ``index_url`` overrides where ``/_/oidc/*`` lives (for other
    warehouse-compatible indexes and for tests); the provider then answers
    for targets under that host.  ``transport`` is used for every request to
    the index and to GitHub; without it, the asking :class:`Target`'s
    ``transport`` (the upload's own, when it has one), else a default one.
    """

    name = "trusted-publishing"

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        transport: Transport | None = None,
        index_url: str | None = None,
        gce_product_file: str = _GCE_PRODUCT_FILE,
    ) -> None:
        self._env = env
        self._transport = transport
        self._index_url = index_url.rstrip("/") if index_url else None
        self._gce_product_file = gce_product_file
        self._lock = threading.Lock()
        self._audiences: dict[str, str] = {}
        #: Every OIDC token read: held, so the redactor masks each while this provider lives.
        self._held: list[Secret] = []
        #: GitLab ID tokens exchanged -> the credentials minted from each.
        self._spent: dict[Secret, Credentials] = {}
        self._warned_reuse = False

    def _index_for(self, target: Target) -> str:
        if self._index_url:
            if urlsplit(self._index_url).netloc != urlsplit(target.url).netloc:
                raise Skip(f"{target.url} is not on {self._index_url}")
            return self._index_url
        index = warehouse_site(urlsplit(target.url).hostname or "")
        if index is None:
            raise Skip("trusted publishing is only for PyPI and TestPyPI")
        return index

    def _where(self, env: Mapping[str, str]) -> str | None:
        """``github``, ``gitlab``, ``google-cloud`` or ``None``."""
        if env.get("GITHUB_ACTIONS") == "true":
            return "github"
        if env.get("GITLAB_CI") == "true":
            return "gitlab"
        if any(env.get(name) for name in _GCE_ENV_SIGNALS) or self._on_gce():
            return "google-cloud"
        return None

    def _on_gce(self) -> bool:
        try:
            with open(self._gce_product_file, encoding="utf-8") as fh:
                return fh.read(256).strip() in _GCE_PRODUCT_NAMES
        except OSError:
            return False

    def _http_for(self, target: Target) -> tuple[_Http, Transport | None]:
        """The transport to use, and the one to close afterwards (ours alone)."""
        if self._transport is not None:
            return self._transport, None
        given = getattr(target, "transport", None)  # the upload's, when Target carries it
        if given is not None and callable(getattr(given, "post_json", None)):
            return given, None
        own = Transport()
        return own, own

    def provide(self, target: Target) -> Credentials | None:
        env = os.environ if self._env is None else self._env
        where = self._where(env)
        if where is None:
            raise Skip("not in GitHub Actions, GitLab CI or on Google Cloud")
        index = self._index_for(target)
        http, owned = self._http_for(target)
        try:
            audience = self._audience(http, index)
            jwt = self._identity(http, env, audience, where)
            with self._lock:
                self._held.append(jwt)
            return self._exchange(http, index, jwt, where)
        finally:
            if owned is not None:
                owned.close()

    def identity_token(self, audience: str, *, transport: Transport | None = None) -> Secret | None:
        """The CI's OIDC token for ``audience`` (e.g. ``sigstore``), masked; ``None``
        outside GitHub Actions, GitLab CI and Google Cloud."""
        env = os.environ if self._env is None else self._env
        where = self._where(env)
        if where is None:
            return None
        http, owned = (transport, None) if transport is not None else self._http_for(Target(""))
        try:
            token = self._identity(http, env, audience, where)
        finally:
            if owned is not None:
                owned.close()
        with self._lock:
            self._held.append(token)
        return token

    def _identity(self, http: _Http, env: Mapping[str, str], audience: str, where: str) -> Secret:
        if where == "google-cloud":
            # Only a Google-run runtime (Cloud Run, Functions) surely has an identity;
            # on a VM found by its DMI name or GCE_METADATA_HOST (someone's workstation,
            # a container without metadata access) a missing one is "not mine".
            required = any(env.get(name) for name in _GCE_RUNTIME_SIGNALS)
            return _google_identity(env, audience, required=required)
        if where == "github":
            return _github_identity(http, env, audience)
        return _gitlab_identity(env, audience)

    def _audience(self, http: _Http, index: str) -> str:
        with self._lock:
            known = self._audiences.get(index)
        if known is None:
            known = _read_audience(http, index)
            with self._lock:
                self._audiences[index] = known
        return known

    def _exchange(self, http: _Http, index: str, jwt: Secret, where: str) -> Credentials:
        claims = _payload(jwt.reveal())
        notes: list[tuple[str, str]] = []
        if where == "github":
            note = _check_reusable_workflow(claims)
            if note:
                logger.warning("trusted publishing: %s", note)
                notes.append(("reusable-workflow", note))
        if where == "gitlab":
            again = self._reused(jwt)
            if again is not None:
                return again
        creds = _mint(http, index, jwt, claims, source=f"{self.name}:{where}", notes=notes)
        if where == "gitlab":
            creds = _single_use_note(creds)
            with self._lock:
                self._spent[jwt] = creds
        return creds

    def _reused(self, jwt: Secret) -> Credentials | None:
        """Asked again with a GitLab ID token already exchanged: the index would
        answer ``invalid-reuse-token``, so keep the token minted from it while it
        lasts, then say why nothing more can be done in this job."""
        with self._lock:
            creds = self._spent.get(jwt)
            if creds is None:
                return None
            first_warning, self._warned_reuse = not self._warned_reuse, True
        until = _clock(creds.expires_at)
        if creds.expires_within(_USELESS_WITHIN):
            raise TrustedPublishingError(
                f"GitLab's ID token was already exchanged for the upload token that expired "
                f"at {until}; the index accepts each OIDC token once and GitLab gives a job "
                "no other",
                code="invalid-reuse-token",
                hint=EXCHANGE_HINTS["invalid-reuse-token"],
            )
        if first_warning:
            logger.warning(
                "trusted publishing: this batch outlives its upload token (expires at %s) and "
                "GitLab cannot give this job a fresh ID token; files still uploading after "
                "that fail. Split long batches across jobs, %s.",
                until,
                _API_TOKEN_HINT,
            )
        return creds


# -- one request each ------------------------------------------------------------------


def _read_audience(http: _Http, index: str) -> str:
    url = f"{index}/_/oidc/audience"
    response = http.get(url)
    if response.status == 403:
        raise TrustedPublishingError(
            "trusted publishing is disabled on this index",
            code="not-enabled",
            url=url,
            status=403,
            hint=EXCHANGE_HINTS["not-enabled"],
        )
    if response.status == 404:
        raise Skip(f"{index} does not support trusted publishing")
    audience = _field(_json(response), "audience") if response.status == 200 else None
    if audience is None or not _AUDIENCE.match(audience):
        raise TrustedPublishingError(
            f"unexpected answer from {url}: {response.status} {_excerpt(response.text(), 120)!r}",
            code="unexpected-answer",
            url=url,
            status=response.status,
            hint="Retry later; the index may be having trouble. With index_url set, check "
            "that it is a warehouse instance (it serves /_/oidc/audience).",
        )
    return audience


def _github_identity(http: _Http, env: Mapping[str, str], audience: str) -> Secret:
    req_url = env.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    req_token = env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not req_url or not req_token:
        # Every earlier provider declined, so this is the last way to authenticate.
        raise TrustedPublishingError(
            "GitHub Actions did not provide an OIDC token "
            "(ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set)",
            code="missing-id-token-permission",
            hint="Give the publishing job `permissions: id-token: write` (forked pull "
            "requests never get one), or provide an API token instead.",
        )
    bearer = Secret(req_token)
    _require_private(req_url, "GitHub's OIDC request token")
    sep = "&" if "?" in req_url else "?"
    response = http.get(
        f"{req_url}{sep}audience={quote(audience, safe='')}",
        headers={"Authorization": f"bearer {bearer.reveal()}"},
    )
    value = _field(_json(response), "value") if response.status == 200 else None
    if value is None:
        raise TrustedPublishingError(
            f"GitHub Actions refused an OIDC token ({response.status}): "
            f"{_excerpt(response.text(), 120)!r}",
            code="missing-id-token",
            status=response.status,
            hint="Check `permissions: id-token: write` on the publishing job.",
        )
    return Secret(value)


def _gitlab_identity(env: Mapping[str, str], audience: str) -> Secret:
    var = re.sub(r"[^A-Z0-9_]", "_", audience.upper()) + "_ID_TOKEN"
    token = env.get(var)
    if not token:
        raise TrustedPublishingError(
            f"GitLab CI did not provide ${var}",
            code="missing-id-token",
            hint=f"Declare it in the publishing job: `id_tokens: {var}: {{aud: {audience}}}`, "
            "or provide an API token instead.",
        )
    return Secret(token.strip())


def _mint(
    http: _Http,
    index: str,
    jwt: Secret,
    claims: Mapping[str, Any],
    *,
    source: str,
    notes: list[tuple[str, str]],
) -> Credentials:
    url = f"{index}/_/oidc/mint-token"
    _require_private(url, "the OIDC token")
    started = time.time()
    response = http.post_json(url, json.dumps({"token": jwt.reveal()}).encode(), headers={})
    data = _json(response)
    token = _field(data, "token")
    secret = Secret(token) if token else None  # masked before anything shows the answer
    if response.status == 200 and secret is not None and data.get("success") is True:
        logger.debug("minted a trusted-publishing token at %s", index)
        return Credentials(
            username="__token__",
            password=secret,
            source=source,
            kind=CredentialKind.TRUSTED_PUBLISHING,
            expires_at=_expiry(data.get("expires"), started),
            details=tuple(notes),
        )
    raise _refusal(response, data, url=url, index=index, claims=claims, notes=notes)


def _expiry(expires: object, started: float) -> float:
    """When the minted token expires: the index's ``expires`` if it is believable,
    never later than :data:`TOKEN_LIFETIME` after the request (clocks differ)."""
    latest = started + TOKEN_LIFETIME
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        return latest
    if not started < expires < latest + 86400:  # NaN fails too
        return latest
    return min(float(expires), latest)


def _refusal(
    response: Response,
    data: object,
    *,
    url: str,
    index: str,
    claims: Mapping[str, Any],
    notes: list[tuple[str, str]],
) -> TrustedPublishingError:
    """The typed error for any answer but a minted token, whatever its shape."""
    errors = _errors(data)
    codes = [code for code, _ in errors if code]
    # A code from the table, else the first the index gave, else: not warehouse's shape.
    code = next((c for c in codes if c in EXCHANGE_HINTS), codes[0] if codes else None)
    if errors:
        said = "; ".join(f"[{c}] {d}" if c else d for c, d in errors)
    elif isinstance(data, dict) and data.get("success") is True:
        said = "it answered success without an upload token"
    else:
        said = _excerpt(_field(data, "message") or response.text() or "(no text)")
    hint = EXCHANGE_HINTS.get(code or "") or _status_hint(response.status)
    if code == "invalid-publisher" and notes:
        hint = f"{hint} Here: {notes[0][1]}."
    return TrustedPublishingError(
        f"{index} refused the token exchange ({response.status}): {said}",
        code=code or "unexpected-answer",
        claims=_shown(claims),
        url=url,
        status=response.status,
        hint=hint,
    )


def _errors(data: object) -> list[tuple[str | None, str]]:
    """Warehouse's ``errors`` list as (code, description) pairs, codes checked, text cleaned."""
    raw = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return []
    found: list[tuple[str | None, str]] = []
    for item in raw[:_SHOWN_ERRORS]:
        code = _field(item, "code")
        code = code if code and _CODE.match(code) else None
        description = _excerpt(_field(item, "description") or "")
        if code or description:
            found.append((code, description))
    return found


def _status_hint(status: int) -> str:
    if status == 429 or status >= 500:
        return f"The index is busy or having trouble: retry later, {_API_TOKEN_HINT}."
    if status in (404, 405):
        return (
            "This index has no token exchange at /_/oidc/mint-token: check index_url, "
            "or use an API token."
        )
    return "Check the trusted publisher configured for this project on the index."


def _single_use_note(creds: Credentials) -> Credentials:
    """GitLab's ID token cannot be exchanged twice: say until when this batch may run."""
    note = (
        f"GitLab's ID token is exchanged once per job; this upload token expires at "
        f"{_clock(creds.expires_at)} and cannot be renewed, so uploads still running then fail"
    )
    logger.info("trusted publishing: %s", note)
    return replace(creds, details=(*creds.details, ("single-use-id-token", note)))


def _clock(when: float | None) -> str:
    if when is None:
        return "an unknown time"
    return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%H:%M:%S UTC")


def _google_identity(env: Mapping[str, str], audience: str, *, required: bool) -> Secret:
    """An identity token for ``audience`` from the Google Cloud metadata server.

    ``GCE_METADATA_HOST`` (as google-auth reads it) overrides the host; short
    timeouts, no proxy.  Unless ``required``, a failure is a :class:`Skip`.
    """
    host = env.get("GCE_METADATA_HOST") or _GCE_DEFAULT_HOST
    url = f"http://{host}{_GCE_IDENTITY_PATH}?audience={quote(audience, safe='')}&format=full"
    hint = (
        "Run on a Google Cloud resource with a service account attached (Compute Engine, "
        "Cloud Run, Cloud Build, GKE with Workload Identity), and register that service "
        "account as the project's trusted publisher."
    )
    options = TransportOptions(connect_timeout=3.0, read_timeout=10.0, proxy="")
    with Transport(options) as metadata:
        try:
            response = metadata.get(url, headers={"Metadata-Flavor": "Google"})
        except RegistryUploadError as exc:
            if not required:
                reason = f"the Google Cloud metadata server did not answer: {exc.message}"
                raise Skip(reason) from None
            raise TrustedPublishingError(
                f"the Google Cloud metadata server did not answer: {exc.message}",
                code="missing-id-token",
                url=url,
                hint=hint,
            ) from None
    token = response.text().strip()
    identity = Secret(token) if response.status == 200 else None
    if identity is None or token.count(".") != 2:
        if not required:
            raise Skip(
                f"no identity token from the Google Cloud metadata server ({response.status})"
            )
        raise TrustedPublishingError(
            f"the Google Cloud metadata server gave no identity token ({response.status})",
            code="missing-id-token",
            url=url,
            status=response.status,
            hint=hint,
        )
    logger.debug("identity token from the Google Cloud metadata server at %s", host)
    return identity
