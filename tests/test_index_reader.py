"""The one index reader: pages of any shape end as a typed answer, quickly."""

from __future__ import annotations

import json
import time

import pytest

from registry_upload._index import IndexLookup, Listed, listing_of, parse_simple_page
from registry_upload.transport import Response

SHA = "ab" * 32


def _page(body: bytes | str, ctype: str = "text/html") -> Response:
    data = body.encode() if isinstance(body, str) else body
    return Response(200, "OK", {"content-type": ctype}, data)


def test_html_links_with_and_without_hashes() -> None:
    page = (
        '<html><A HREF="../../f/a-1.0.tar.gz#sha256=' + SHA.upper() + '">a-1.0.tar.gz</a>\n'
        "<a data-x='1' href='/f/b-1.0-py3-none-any.whl'>b</a>"
        '<a href="/f/c%2B1-1.0.tar.gz#md5=00">c</a>'
    )
    assert parse_simple_page(_page(page)) == {
        "a-1.0.tar.gz": SHA,
        "b-1.0-py3-none-any.whl": None,
        "c+1-1.0.tar.gz": None,
    }


@pytest.mark.parametrize(
    "page",
    [
        '<a href="x' * 100_000,  # unclosed tags with an open quote
        "<a href" * 150_000,  # ~1 MiB of unclosed tags
        "<a href=x>" * 100_000 + "<" * 100_000,  # many links, then junk
        "<" * (1 << 20),
    ],
)
def test_hostile_html_parses_in_linear_time(page: str) -> None:
    started = time.monotonic()
    parse_simple_page(_page(page))
    assert time.monotonic() - started < 2.0


def test_deeply_nested_json_cannot_tell() -> None:
    body = b'{"files": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ValueError, match="nested"):
        parse_simple_page(_page(body, "application/vnd.pypi.simple.v1+json"))


@pytest.mark.parametrize(
    "data",
    [[], {"files": {}}, {"files": [1]}, {"files": [{"filename": 3}]}, "x"],
)
def test_json_of_the_wrong_shape_is_a_value_error(data: object) -> None:
    with pytest.raises(ValueError):
        parse_simple_page(_page(json.dumps(data), "application/vnd.pypi.simple.v1+json"))


def test_a_listing_places_the_file() -> None:
    page = IndexLookup("u", {"a.whl": SHA, "b.whl": None})
    assert listing_of(page, "a.whl", SHA.upper()).listed is Listed.SAME
    assert listing_of(page, "a.whl", "cd" * 32).listed is Listed.OTHER
    assert listing_of(page, "b.whl", SHA).listed is Listed.NO_HASH
    assert listing_of(page, "c.whl", SHA).listed is Listed.ABSENT
    assert listing_of(IndexLookup("u", None, problem="503"), "a.whl", SHA).listed is Listed.UNKNOWN

    def never() -> str:
        raise AssertionError("the file is hashed only when the index shows a hash")

    assert listing_of(page, "c.whl", never).listed is Listed.ABSENT
