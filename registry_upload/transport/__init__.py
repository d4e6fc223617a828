"""HTTP only: one POST per file with a streamed multipart body, small GETs and JSON POSTs.

The pieces, each in its own module:

- ``_records``: :class:`TransportOptions`, :class:`Response`, :class:`SendResult`;
- ``_multipart``: :class:`MultipartBody`, the upload form streamed from disk;
- ``_connect``: the one module that opens sockets (bounded name resolution,
  proxies and CONNECT tunnels, TLS with the system trust store);
- ``_exchange``: one request on one connection (h11 framing, interim
  answers skipped, ``Expect: 100-continue``, early answers);
- ``_deadlines``: the per-attempt deadline and the thread that enforces it;
- ``_errors``: failures as :class:`~registry_upload.TransportError`;
- ``_proxies``: which proxy a request takes (``*_PROXY``/``NO_PROXY``);
- ``_client``: :class:`Transport`, and the :class:`TransportProtocol` it satisfies.

This package knows nothing about registries' wording; see ``diagnostics``.
"""

from __future__ import annotations

from ..errors import TransportError
from ._client import Transport, TransportProtocol
from ._multipart import MultipartBody
from ._proxies import proxy_from_environment
from ._records import (
    DEFAULT_USER_AGENT,
    MAX_BODY,
    MAX_WAIT_SECONDS,
    ProgressCallback,
    Response,
    SendResult,
    TransportOptions,
)

__all__ = [
    "DEFAULT_USER_AGENT",
    "MAX_BODY",
    "MAX_WAIT_SECONDS",
    "MultipartBody",
    "ProgressCallback",
    "Response",
    "SendResult",
    "Transport",
    "TransportError",
    "TransportOptions",
    "TransportProtocol",
    "proxy_from_environment",
]
