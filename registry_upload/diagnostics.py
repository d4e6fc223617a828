"""Turn a registry's answer into a diagnosis, and the diagnosis into a typed error.

The knowledge is data in the registry profiles (:mod:`registry_upload.registries`):
each profile's rows are tried in order, then the generic rows; the first
match wins.  Registries change their wording, so texts match
case-insensitively as substrings, and the registry's own message (redacted
of any secret) is always shown as well.
"""

from __future__ import annotations

import http
import json
import re
from dataclasses import dataclass

from ._redact import redact
from .errors import RedirectError, UploadError
from .registries import GENERIC_RULES, Profile, Rule, profile, recognise
from .transport import Response

__all__ = ["Diagnosis", "classify", "server_message"]


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What one non-success answer means: the matching row and the registry's words.

    :meth:`to_error` builds the typed error once, with the hint the caller
    settles on (the row's, unless the caller knows better).
    """

    rule: Rule
    status: int
    server_message: str
    registry: str
    url: str
    filename: str
    location: str | None = None

    @property
    def exists(self) -> bool:
        """The registry says this filename is already there."""
        return self.rule.exists

    @property
    def error(self) -> UploadError:
        return self.to_error()

    def to_error(self, *, path: str | None = None, hint: str | None = None) -> UploadError:
        summary = f"{self.filename}: {self.registry} answered {self.status}: {self.rule.meaning}"
        if self.rule.error is RedirectError:
            where = self.location or "(no Location given)"
            return RedirectError(
                f"{summary} to {where}; a redirected upload is never followed",
                location=self.location,
                hint=hint or self._redirect_hint(),
                status=self.status,
                url=self.url,
                registry=self.registry,
                server_message=self.server_message,
                path=path,
            )
        return self.rule.error(
            f"{summary}: {self.server_message}",
            hint=hint or self.rule.hint,
            status=self.status,
            url=self.url,
            registry=self.registry,
            server_message=self.server_message,
            path=path,
        )

    def _redirect_hint(self) -> str:
        location = self.location or ""
        if location and location.rstrip("/") == self.url.rstrip("/"):
            return f"Use the URL with the trailing slash: {location}"
        return (
            f"The registry moved the endpoint to {location or '(no Location given)'}; "
            "use that URL if you trust it."
        )


def classify(
    response: Response,
    *,
    url: str,
    filename: str,
    registry: str | Profile | None = None,
    job_token: bool = False,
) -> Diagnosis:
    """Classify a non-2xx answer (2xx is success and never reaches here).

    ``registry`` is the profile (or its id) the uploader recognised; without
    it the URL and the response's headers decide.  ``job_token``: the
    password was a GitLab CI job token.
    """
    chosen = _profile(registry, url, response)
    message = server_message(response)
    lowered = message.lower()
    rule = next(
        r
        for r in (*chosen.rules, *GENERIC_RULES)
        if r.matches(response.status, lowered, job_token=job_token)
    )
    return Diagnosis(
        rule=rule,
        status=response.status,
        server_message=message,
        registry=chosen.id,
        url=url,
        filename=filename,
        location=response.header("location") or None,
    )


def _profile(registry: str | Profile | None, url: str, response: Response) -> Profile:
    if isinstance(registry, Profile):
        chosen = registry
    else:
        chosen = profile(registry) if registry else recognise(url)
    if chosen.id == "unknown":
        chosen = recognise(url, response.headers)
    return chosen


def server_message(response: Response) -> str:
    """The registry's own words (JSON message, readable body text, or reason phrase),
    with every known secret masked.

    Linear in the body whatever it holds (an unclosed ``<script>``, JSON
    nested thousands deep, odd types in the message fields), and the body is
    at most 1 MiB (the transport keeps no more).
    """
    text = response.text().strip()
    message = ""
    ctype = response.header("content-type") or ""
    if text and ("json" in ctype or text[:1] in "{["):
        message = _json_message(text)
    if not message and text:
        if "<" in text and ">" in text:
            import html

            text = html.unescape(_without_tags(text))
        message = " ".join(text.split())
    reason = response.reason.strip()
    standard = _standard_phrase(response.status)
    if reason and reason.lower() != standard.lower() and reason.lower() not in message.lower():
        # warehouse puts its message in the reason phrase (absent over HTTP/2).
        message = f"{reason} {message}".strip() if message else reason
    if not message:
        message = f"{response.status} {reason or standard}".strip()
    return _CONTROL.sub(" ", redact(message))[:2000]


# Elements whose content is not words for a person.
_HIDDEN = ("script", "style", "head")
_CLOSING = {name: re.compile(f"</{name}", re.IGNORECASE) for name in _HIDDEN}
# JSON deeper than this is shown as "..." below it.
_MAX_DEPTH = 8


def _without_tags(text: str) -> str:
    """``text`` with its tags (and script, style and head elements) replaced by spaces.

    One forward scan: every search starts where the last one ended, so an
    unclosed tag or element costs one pass, never one pass per ``<``.
    An unclosed tag or hidden element ends the text.
    """
    out: list[str] = []
    at = 0
    while (start := text.find("<", at)) >= 0:
        out.append(text[at:start])
        end = text.find(">", start)
        if end < 0:
            return "".join(out)
        words = text[start + 1 : min(end, start + 16)].lower().split(None, 1)
        at = end + 1
        if words and words[0] in _HIDDEN:
            close = _CLOSING[words[0]].search(text, at)
            after = text.find(">", close.end()) if close else -1
            if after < 0:
                return "".join(out)
            at = after + 1
        out.append(" ")
    out.append(text[at:])
    return "".join(out)


def _json_message(text: str) -> str:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # nested beyond the parser's depth
        return ""
    if not isinstance(data, dict):
        return ""
    parts = []
    for key in ("message", "error", "detail", "title", "errors"):
        value = data.get(key)
        if isinstance(value, str) and value:
            parts.append(value)
        elif isinstance(value, list | dict) and value:
            # Redacted before it is dumped: dumping escapes quotes and backslashes,
            # and an escaped secret would no longer be recognised.
            parts.append(json.dumps(_redacted(value, _MAX_DEPTH), ensure_ascii=False))
    return " ".join(dict.fromkeys(parts))


def _redacted(value: object, depth: int) -> object:
    """``value`` with its strings redacted, cut to ``depth`` levels (JSON types only)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | dict) and depth <= 0:
        return "..."
    if isinstance(value, list):
        return [_redacted(item, depth - 1) for item in value]
    if isinstance(value, dict):
        return {redact(str(k)): _redacted(v, depth - 1) for k, v in value.items()}
    return value


# C0/C1 control characters (ESC and friends): a registry's words go to a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _standard_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""
