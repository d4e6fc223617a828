#!/usr/bin/env bash
# A release job for any CI: build, check by PyPI's rules, publish, and fail loudly
# at the first thing wrong. Set the target and the token in the CI's settings:
#
#   REGISTRY_UPLOAD_REPOSITORY_URL   (or TWINE_REPOSITORY_URL / UV_PUBLISH_URL; unset: PyPI)
#   REGISTRY_UPLOAD_PASSWORD         (an API token; or trusted publishing, nothing to set)
#
# Exit codes are registry-upload's: 1 a file failed or is unconfirmed, 2 nothing was
# sent (no files, a bad setting, a file the registry would refuse), 143 cancelled.
set -euo pipefail

dist="${1:-dist}"
# (--no-isolation builds with the backend already installed; drop it to let build fetch it)
python -m build ${BUILD_ARGS:---no-isolation} --outdir "$dist" "${PROJECT_DIR:-.}"

# No files is an error, not a green job that published nothing.
shopt -s nullglob
files=("$dist"/*.whl "$dist"/*.tar.gz)
if [ "${#files[@]}" -eq 0 ]; then
    echo "error: no wheel or sdist in $dist/: the build produced nothing to publish" >&2
    exit 2
fi

registry-upload check "${files[@]}"
# --skip-existing: a re-run after a cancelled job finishes the release, never duplicates.
registry-upload upload "${files[@]}" --skip-existing --verify --non-interactive
