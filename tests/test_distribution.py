"""The distribution inspector: real backends, twine parity, every kind of bad input."""

from __future__ import annotations

import collections
import hashlib
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from registry_upload import (
    Distribution,
    Finding,
    InvalidDistributionError,
    InvalidMetadataError,
    RegistryUploadError,
    Severity,
    UnsupportedDistributionError,
    check,
)
from registry_upload.distribution import METADATA_SIZE_LIMIT
from registry_upload.testing import core_metadata, make_sdist, make_wheel

# --- real backends and twine parity -----------------------------------------


def _twine_fields(path: Path) -> list[tuple[str, str]]:
    from twine.package import PackageFile
    from twine.repository import Repository

    package = PackageFile.from_filename(str(path), comment=None)
    fields = Repository._convert_metadata_to_list_of_tuples(package.metadata_dictionary())
    fields += [(":action", "file_upload"), ("protocol_version", "1")]
    return [(k, v) for k, v in fields]


@pytest.mark.parametrize("backend", ["setuptools", "hatchling", "flit_core"])
def test_form_fields_equal_twine_for_real_backends(
    built_dists: dict[str, list[Path]], backend: str
) -> None:
    paths = built_dists[backend]
    assert {p.suffix for p in paths} == {".whl", ".gz"}
    for path in paths:
        dist = Distribution.open(path)
        ours = dist.form_fields(dist.digests(blake2=True))
        theirs = _twine_fields(path)
        # Deliberate differences (README, "Differences from twine"): metadata 2.5's
        # Import-Name/Import-Namespace are sent (as warehouse names them: import_name,
        # import_namespace), twine 7 drops them; requires_python is always sent (the
        # built projects declare it, so it matches here).
        only_ours = [(k, v) for k, v in ours if k in {"import_name", "import_namespace"}]
        if dist.metadata_version == "2.5":
            assert only_ours == [(k, v) for k, v in only_ours if k == "import_name"]
        else:
            assert not only_ours
        ours = [f for f in ours if f not in only_ours]
        assert collections.Counter(ours) == collections.Counter(theirs), path.name


def test_real_wheel_properties(built_dists: dict[str, list[Path]]) -> None:
    wheel = next(p for p in built_dists["hatchling"] if p.suffix == ".whl")
    dist = Distribution.open(wheel)
    assert dist.filetype == "bdist_wheel"
    assert dist.pyversion == "py3"
    assert dist.project == "sample-hatch"
    assert dist.version == "1.2.3"
    digests = dist.digests(blake2=True, md5=True)
    data = wheel.read_bytes()
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.blake2_256 == hashlib.blake2b(data, digest_size=32).hexdigest()
    assert digests.md5 == hashlib.md5(data).hexdigest()
    assert check([wheel]).ok


def test_requires_python_always_present(tmp_path: Path) -> None:
    dist = Distribution.open(make_wheel(tmp_path, "nopy", "1.0"))
    assert ("requires_python", "") in dist.form_fields()


def test_field_mapping_and_version_gates(tmp_path: Path) -> None:
    extra = (
        "Keywords: alpha,beta\n"
        "Project-URL: Docs, https://example.org/docs\n"
        "Project-URL: Source, https://example.org/src\n"
        "Platform: linux\nPlatform: win32\n"
        "Supported-Platform: RedHat 7.2\n"
        "Requires-Dist: a>=1\nRequires-Dist: b; extra == 'x'\n"
        "Provides-Extra: x\n"
        "License-Expression: MIT\nLicense-File: LICENSE\n"
        "Dynamic: Requires-Dist\n"
        "Requires-Python: >=3.9"
    )
    path = make_wheel(tmp_path, "mapped", "1.0", metadata_extra=extra)
    fields = Distribution.open(path).form_fields()
    assert ("keywords", "alpha, beta") in fields
    assert ("project_urls", "Docs, https://example.org/docs") in fields
    assert ("project_urls", "Source, https://example.org/src") in fields
    assert [v for k, v in fields if k == "platform"] == ["linux", "win32"]
    assert ("supported_platform", "RedHat 7.2") in fields
    assert [v for k, v in fields if k == "requires_dist"] == ["a>=1", "b; extra == 'x'"]
    assert ("license_expression", "MIT") in fields
    assert ("license_file", "LICENSE") in fields
    assert ("dynamic", "Requires-Dist") in fields
    assert [v for k, v in fields if k == "requires_python"] == [">=3.9"]
    assert fields[:2] == [(":action", "file_upload"), ("protocol_version", "1")]


def test_license_file_dropped_below_metadata_24(tmp_path: Path) -> None:
    meta = core_metadata("old", "1.0", metadata_version="2.1", extra="License-File: LICENSE")
    fields = Distribution.open(make_wheel(tmp_path, "old", "1.0", metadata=meta)).form_fields()
    assert not [k for k, _ in fields if k == "license_file"]


def test_import_names_sent_for_metadata_25(tmp_path: Path) -> None:
    extra = "Import-Name: imp\nImport-Name: imp.sub\nImport-Namespace: ns"
    meta = core_metadata("imp", "1.0", metadata_version="2.5", extra=extra)
    fields = Distribution.open(make_wheel(tmp_path, "imp", "1.0", metadata=meta)).form_fields()
    # warehouse reads the singular names and silently drops unknown keys
    assert [v for k, v in fields if k == "import_name"] == ["imp", "imp.sub"]
    assert [v for k, v in fields if k == "import_namespace"] == ["ns"]
    assert not [k for k, _ in fields if k in {"import_names", "import_namespaces"}]


def test_attestations_are_picked_up(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "att", "1.0")
    att = {"version": 1, "verification_material": {}, "envelope": {}}
    Path(f"{path}.publish.attestation").write_text(json.dumps(att))
    fields = dict(Distribution.open(path).form_fields())
    assert json.loads(fields["attestations"]) == [att]


def test_broken_attestation_is_a_typed_error(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "att", "1.0")
    Path(f"{path}.publish.attestation").write_text("{not json")
    with pytest.raises(InvalidDistributionError, match="attestation"):
        Distribution.open(path)


# --- warnings ----------------------------------------------------------------


def test_non_normalised_sdist_name_is_a_warning(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "My.Pkg", "1.0", filename="My.Pkg-1.0.tar.gz")
    dist = Distribution.open(path)
    assert [f.code for f in dist.findings] == ["sdist-filename-not-normalized"]
    assert "my_pkg-1.0.tar.gz" in dist.findings[0].message


def test_local_version_is_flagged(tmp_path: Path) -> None:
    dist = Distribution.open(make_wheel(tmp_path, "loc", "1.0+dev1"))
    assert [f.code for f in dist.findings] == ["local-version"]
    assert "PyPI" in (dist.findings[0].hint or "")


def test_legacy_zip_sdist_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "zipped-1.0.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("zipped-1.0/PKG-INFO", core_metadata("zipped", "1.0"))
        zf.writestr("zipped-1.0/setup.py", "")
    dist = Distribution.open(path)
    assert (dist.filetype, dist.pyversion, dist.name) == ("sdist", "source", "zipped")


# --- bad input: each one a typed error that names the file --------------------


def _assert_names_file(exc: RegistryUploadError, path: Path) -> None:
    assert str(path) in exc.message
    assert exc.hint


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "thing-1.0.egg"
    path.write_bytes(b"x")
    with pytest.raises(UnsupportedDistributionError) as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)
    assert ".whl" in info.value.message


def test_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "gone-1.0-py3-none-any.whl"
    with pytest.raises(UnsupportedDistributionError, match="no such file") as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)


def test_directory(tmp_path: Path) -> None:
    path = tmp_path / "dir-1.0-py3-none-any.whl"
    path.mkdir()
    with pytest.raises(UnsupportedDistributionError, match="not a regular file") as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)


def test_symlink_loop(tmp_path: Path) -> None:
    a, b = tmp_path / "a-1.0-py3-none-any.whl", tmp_path / "b-1.0-py3-none-any.whl"
    os.symlink(b, a)
    os.symlink(a, b)
    with pytest.raises(UnsupportedDistributionError, match="cannot be opened") as info:
        Distribution.open(a)
    _assert_names_file(info.value, a)


def test_truncated_zip(tmp_path: Path) -> None:
    good = make_wheel(tmp_path, "trunc", "1.0", payload_size=200_000)
    good.write_bytes(good.read_bytes()[:100_000])
    with pytest.raises(InvalidDistributionError, match="corrupt or truncated") as info:
        Distribution.open(good)
    _assert_names_file(info.value, good)


def test_corrupt_zip(tmp_path: Path) -> None:
    path = tmp_path / "junk-1.0-py3-none-any.whl"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(InvalidDistributionError) as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)


def test_truncated_gzip_tar(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "trunc", "1.0", payload_size=300_000)
    path.write_bytes(path.read_bytes()[:-2000])
    with pytest.raises(InvalidDistributionError, match="corrupt or truncated") as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)


def test_missing_metadata_in_wheel(tmp_path: Path) -> None:
    path = tmp_path / "nometa-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("nometa-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        zf.writestr("nometa/__init__.py", "")
    with pytest.raises(InvalidDistributionError, match="METADATA is missing") as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)


def test_missing_pkg_info_in_sdist(tmp_path: Path) -> None:
    path = tmp_path / "noinfo-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        data = b"print('hi')\n"
        info = tarfile.TarInfo("noinfo-1.0/setup.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    with pytest.raises(InvalidDistributionError, match="PKG-INFO") as info_:
        Distribution.open(path)
    _assert_names_file(info_.value, path)


def test_two_dist_info_directories(tmp_path: Path) -> None:
    path = tmp_path / "twice-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("twice-1.0.dist-info/METADATA", core_metadata("twice", "1.0"))
        zf.writestr("other-2.0.dist-info/METADATA", core_metadata("other", "2.0"))
    with pytest.raises(InvalidDistributionError, match="2 .dist-info directories") as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)


def test_oversized_metadata_is_refused_unread(tmp_path: Path) -> None:
    big = core_metadata("big", "1.0") + "\n" + "x" * (METADATA_SIZE_LIMIT + 10)
    path = make_wheel(tmp_path, "big", "1.0", metadata=big)
    with pytest.raises(InvalidDistributionError, match="refusing to read it") as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)


def test_non_utf8_metadata(tmp_path: Path) -> None:
    meta = b"Metadata-Version: 2.1\nName: latin\nVersion: 1.0\nAuthor: Jos\xe9\n"
    path = make_wheel(tmp_path, "latin", "1.0", metadata=meta)
    with pytest.raises(InvalidMetadataError) as info:
        Distribution.open(path)
    (problem,) = info.value.problems
    assert isinstance(problem, Finding)
    assert (problem.code, problem.severity, problem.path) == (
        "metadata-not-utf8",
        Severity.ERROR,
        str(path),
    )
    assert "line 4" in problem.message
    _assert_names_file(info.value, path)


def test_name_and_version_mismatch(tmp_path: Path) -> None:
    meta = core_metadata("other-name", "2.0")
    for path in (
        make_wheel(tmp_path, "real", "1.0", metadata=meta),
        make_sdist(tmp_path, "real", "1.0", metadata=meta),
    ):
        with pytest.raises(InvalidMetadataError) as info:
            Distribution.open(path)
        assert {p.code for p in info.value.problems} == {"name-mismatch", "version-mismatch"}
        _assert_names_file(info.value, path)


def test_dist_info_not_matching_wheel_filename(tmp_path: Path) -> None:
    path = tmp_path / "real-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("other-1.0.dist-info/METADATA", core_metadata("other", "1.0"))
    with pytest.raises(InvalidDistributionError, match="does not match the filename") as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)


def test_all_metadata_problems_at_once(tmp_path: Path) -> None:
    meta = (
        "Metadata-Version: 2.1\nName: bad\nVersion: 1.0\n"
        "Requires-Dist: ???\nDescription-Content-Type: text/nonsense\n"
        "Requires-Python: >=>3\nUnknown-Field: x\n"
    )
    path = make_sdist(tmp_path, "bad", "1.0", metadata=meta)
    with pytest.raises(InvalidMetadataError) as info:
        Distribution.open(path)
    fields = {p.field for p in info.value.problems}
    assert {"requires-dist", "description-content-type", "requires-python", "unknown-field"} <= (
        fields
    )
    assert str(path) in str(info.value)
    # check() reports the same problems as findings, without raising.
    report = check([path])
    assert not report.ok
    assert {f.field for f in report.errors} >= {"requires-dist", "requires-python"}


def test_metadata_version_20_is_a_warning_that_pypi_refuses(tmp_path: Path) -> None:
    meta = core_metadata("mv", "1.0", metadata_version="2.0", extra="Provides-Extra: x")
    dist = Distribution.open(make_wheel(tmp_path, "mv", "1.0", metadata=meta))
    (warning,) = dist.findings
    assert warning.code == "metadata-version-2.0"
    assert warning.severity is Severity.WARNING
    assert "PyPI and TestPyPI refuse" in warning.message
    assert ("metadata_version", "2.0") in dist.form_fields()  # sent as the file says
    # check() judges against PyPI by default, which refuses it; pypiserver accepts it.
    assert "metadata-version-2.0" in {f.code for f in check(dist.path).errors}
    elsewhere = check(dist.path, registry="pypiserver")
    assert elsewhere.ok and "metadata-version-2.0" in {f.code for f in elsewhere.warnings}


def test_metadata_version_20_still_validates_the_other_fields(tmp_path: Path) -> None:
    meta = core_metadata("mv", "1.0", metadata_version="2.0", extra="Requires-Dist: ???")
    with pytest.raises(InvalidMetadataError) as info:
        Distribution.open(make_wheel(tmp_path, "mv", "1.0", metadata=meta))
    assert [p.field for p in info.value.problems] == ["requires-dist"]


def test_invalid_wheel_filename(tmp_path: Path) -> None:
    path = tmp_path / "not-a-wheel.whl"
    path.write_bytes(b"")
    with pytest.raises(InvalidDistributionError, match="invalid wheel filename") as info:
        Distribution.open(path)
    _assert_names_file(info.value, path)


# --- fuzzing: only RegistryUploadError subclasses escape ---------------------


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("seeds")
    wheel = make_wheel(d, "fuzz", "1.0", metadata_extra="Summary: s", description="hello")
    sdist = make_sdist(d, "fuzz", "1.0", metadata_extra="Summary: s", description="hello")
    return {wheel.name: wheel.read_bytes(), sdist.name: sdist.read_bytes()}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.sampled_from(["fuzz-1.0-py3-none-any.whl", "fuzz-1.0.tar.gz"]),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_mutated_archives_only_raise_typed_errors(
    seed_files: dict[str, bytes],
    tmp_path_factory: pytest.TempPathFactory,
    which: str,
    flips: list[tuple[float, int]],
    cut: float | None,
) -> None:
    data = bytearray(seed_files[which])
    for where, value in flips:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    path = tmp_path_factory.mktemp("fuzz") / which
    path.write_bytes(bytes(data))
    try:
        dist = Distribution.open(path)
    except RegistryUploadError as exc:
        assert str(path) in str(exc)
    else:
        assert dist.form_fields()
    report = check([path])  # never raises, whatever the bytes
    assert report.paths == (str(path),)


# --- wire names: every metadata field against warehouse's form ---------------------

# RawMetadata key -> the form key warehouse's forklift reads it from
# (warehouse/forklift/metadata.py: _FORM_TO_RAW_MAPPING, the RawMetadata keys with
# platforms, supported_platforms, license_files, import_names, import_namespaces
# overridden to the singular).  Unknown keys are dropped there silently.
WAREHOUSE_FORM_KEY = {
    "author": "author",
    "author_email": "author_email",
    "classifiers": "classifiers",
    "description": "description",
    "description_content_type": "description_content_type",
    "download_url": "download_url",
    "dynamic": "dynamic",
    "home_page": "home_page",
    "import_names": "import_name",
    "import_namespaces": "import_namespace",
    "keywords": "keywords",
    "license": "license",
    "license_expression": "license_expression",
    "license_files": "license_file",
    "maintainer": "maintainer",
    "maintainer_email": "maintainer_email",
    "metadata_version": "metadata_version",
    "name": "name",
    "obsoletes": "obsoletes",
    "obsoletes_dist": "obsoletes_dist",
    "platforms": "platform",
    "project_urls": "project_urls",
    "provides": "provides",
    "provides_dist": "provides_dist",
    "provides_extra": "provides_extra",
    "requires": "requires",
    "requires_dist": "requires_dist",
    "requires_external": "requires_external",
    "requires_python": "requires_python",
    "summary": "summary",
    "supported_platforms": "supported_platform",
    "version": "version",
}

_EVERY_FIELD = """\
Metadata-Version: 2.5
Name: every.field
Version: 1.0
Platform: linux
Platform: win32
Supported-Platform: RedHat 7.2
Supported-Platform: Ubuntu
Summary: one line
Description-Content-Type: text/plain
Keywords: a,b
Home-page: https://example.org
Download-URL: https://example.org/dl
Author: A
Author-email: a@example.org
Maintainer: M
Maintainer-email: m@example.org
License-Expression: MIT
License-File: LICENSE
License-File: NOTICE
Classifier: Programming Language :: Python
Classifier: Typing :: Typed
Requires-Dist: a>=1
Requires-Dist: b
Requires-Python: >=3.9
Requires-External: libfoo
Requires-External: libbar
Project-URL: Docs, https://example.org/docs
Project-URL: Source, https://example.org/src
Provides-Extra: x
Provides-Extra: y
Provides-Dist: every.field
Provides-Dist: other
Obsoletes-Dist: old
Obsoletes-Dist: older
Requires: os
Requires: sys
Provides: every
Provides: field
Obsoletes: gone
Obsoletes: went
Dynamic: Classifier
Dynamic: Keywords
Import-Name: every
Import-Name: every.sub
Import-Namespace: ns
Import-Namespace: ns2

Long description.
"""


def test_every_field_uses_warehouses_form_key(tmp_path: Path) -> None:
    from packaging.metadata import _RAW_TO_EMAIL_MAPPING

    # a field packaging learns about fails here until it is mapped above
    assert set(WAREHOUSE_FORM_KEY) == set(_RAW_TO_EMAIL_MAPPING)
    dist = Distribution.open(make_wheel(tmp_path, "every.field", "1.0", metadata=_EVERY_FIELD))
    assert set(dist.metadata) == set(WAREHOUSE_FORM_KEY) - {"license"}  # License or -Expression
    fields = dist.form_fields()
    metadata_keys = [k for k, _ in fields[2:] if k not in {"filetype", "pyversion"}]
    assert set(metadata_keys) == {WAREHOUSE_FORM_KEY[k] for k in dist.metadata}
    sent = collections.defaultdict(list)
    for key, value in fields:
        sent[key].append(value)
    # multiple-use fields: one form field per value, in order
    assert sent["platform"] == ["linux", "win32"]
    assert sent["supported_platform"] == ["RedHat 7.2", "Ubuntu"]
    assert sent["license_file"] == ["LICENSE", "NOTICE"]
    assert sent["classifiers"] == ["Programming Language :: Python", "Typing :: Typed"]
    assert sent["requires_dist"] == ["a>=1", "b"]
    assert sent["requires_external"] == ["libfoo", "libbar"]
    assert sent["project_urls"] == [
        "Docs, https://example.org/docs",
        "Source, https://example.org/src",
    ]
    assert sent["provides_extra"] == ["x", "y"]
    assert sent["provides_dist"] == ["every.field", "other"]
    assert sent["obsoletes_dist"] == ["old", "older"]
    assert sent["requires"] == ["os", "sys"]
    assert sent["provides"] == ["every", "field"]
    assert sent["obsoletes"] == ["gone", "went"]
    assert sent["dynamic"] == ["Classifier", "Keywords"]
    assert sent["import_name"] == ["every", "every.sub"]
    assert sent["import_namespace"] == ["ns", "ns2"]
    # single-use fields: exactly once; keywords joined as warehouse splits them
    assert sent["keywords"] == ["a, b"]
    assert sent["name"] == ["every.field"]
    assert sent["description"] == ["Long description.\n"]
    for key in ("summary", "author", "author_email", "home_page", "requires_python"):
        assert len(sent[key]) == 1, key
    # and nothing warehouse would drop
    assert set(sent) <= set(WAREHOUSE_FORM_KEY.values()) | {
        ":action",
        "protocol_version",
        "filetype",
        "pyversion",
    }


def _safe_name_reference(name: str) -> str:
    """The character-by-character definition the regex replaces."""
    out: list[str] = []
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch == "."):
            out.append(ch)
        elif not out or out[-1] != "-":
            out.append("-")
    return "".join(out)


def test_the_form_name_matches_its_definition() -> None:
    import random

    from registry_upload.distribution import _safe_name

    rng = random.Random(13)
    alphabet = "aZ09.-_ \t+é\u0661\u00b2!/"
    names = ["", "-", "a", "A-b", "a--b", "-a-", "a_-b", "Demo.Project", "naïve_pkg", "x\u0661"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(2000)]
    for name in names:
        assert _safe_name(name) == _safe_name_reference(name), name
