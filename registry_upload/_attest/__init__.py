"""PEP 740 attestations (private): see :mod:`registry_upload.attest`.

``_errors`` and ``_check`` need nothing beyond the standard library (and
``cryptography``, when present, to read a certificate); ``_sigstore`` is the
one module that imports ``sigstore`` and ``pypi_attestations``, and only
:func:`registry_upload.attest.attest` (or a verifying pre-check) imports it.
"""
