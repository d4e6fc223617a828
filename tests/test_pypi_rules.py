"""PyPI's upload rules: a file built to break each one, judged by check() and the preflight.

Each rule is data in the PyPI profile (``UPLOAD_RULES``: code, warehouse
source, hint).  ``check()`` (PyPI by default) reports an ERROR for it,
``checks.refuse()`` (the upload preflight) refuses the file with the same
codes, and another registry's profile (pypiserver) accepts the file.
"""

from __future__ import annotations

import functools
import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from registry_upload import (
    Distribution,
    DistributionError,
    Severity,
    _policy,
    check,
    checks,
    upload,
)
from registry_upload._index import IndexLookup, lookup_project_files
from registry_upload.registries import PYPI, PYPISERVER, TESTPYPI, profile
from registry_upload.registries._pypi import UPLOAD_RULES
from registry_upload.testing import FakeRegistry, core_metadata, make_sdist, make_wheel
from registry_upload.transport import Transport, TransportOptions


def _wheel(
    tmp_path: Path,
    filename: str,
    extra: str = "",
    *,
    metadata_version: str = "2.4",
    members: dict[str, bytes] | None = None,
    record: bool = True,
    description: str | None = "Title\n=====\n\nText.\n",
) -> Path:
    """A wheel named exactly ``filename``, its .dist-info spelt as the filename spells it."""
    name, version, _ = filename.split("-", 2)
    dist_info = f"{name}-{version}.dist-info"
    meta = core_metadata(
        name,
        version,
        metadata_version=metadata_version,
        extra=("Description-Content-Type: text/x-rst\n" if metadata_version >= "2.1" else "")
        + extra,
        description=description,
    )
    entries = {
        f"{dist_info}/METADATA": meta.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\n",
    }
    entries.update(members or {})
    if record:
        entries[f"{dist_info}/RECORD"] = "".join(f"{n},,\n" for n in entries).encode()
    path = tmp_path / filename
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in entries.items():
            zf.writestr(zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0)), data)
    return path


def _codes(findings: object) -> set[str]:
    return {f.code for f in findings}  # type: ignore[attr-defined]


def _judged(path: Path, code: str) -> None:
    """PyPI refuses ``path`` for ``code`` in check() and the preflight; pypiserver does not."""
    report = check(path)
    assert code in _codes(report.errors), report.findings
    (finding,) = [f for f in report.errors if f.code == code][:1]
    assert "[PyPI refuses it]" in finding.message
    rule = PYPI.upload_rule(code)
    assert rule is not None and rule.source in (finding.hint or "")
    dist = Distribution.open(path)
    with pytest.raises(DistributionError) as raised:
        checks.refuse([dist], PYPI)
    assert code in _codes(raised.value.problems)
    assert "nothing was sent" in raised.value.message
    # the same verdict, file by file: check's errors are the preflight's refusals
    assert _codes(report.errors) == _codes(checks.refusals([dist], PYPI))
    assert code not in _codes(check(path, registry="pypiserver").errors)
    checks.refuse([dist], PYPISERVER)  # does not raise


# --- filenames -------------------------------------------------------------------

REAL_WHEEL_NAMES = [
    "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "PyYAML-6.0.2-cp312-cp312-macosx_11_0_arm64.whl",
    "MarkupSafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "MarkupSafe-3.0.2-cp313-cp313-win_amd64.whl",
    "Django-5.1.5-py3-none-any.whl",
    "zope.interface-7.2-cp311-cp311-manylinux_2_5_x86_64.manylinux1_x86_64"
    ".manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "zope.interface-7.2-cp312-cp312-macosx_10_9_x86_64.whl",
    "SQLAlchemy-2.0.36-cp311-cp311-musllinux_1_2_x86_64.whl",
    "Pygments-2.19.1-py3-none-any.whl",
]


@pytest.mark.parametrize("filename", REAL_WHEEL_NAMES)
def test_real_non_normalised_wheel_names_are_refused(tmp_path: Path, filename: str) -> None:
    _judged(_wheel(tmp_path, filename), "wheel-filename-not-normalized")


def test_a_normalised_wheel_name_passes(tmp_path: Path) -> None:
    report = check(_wheel(tmp_path, "zope_interface-7.2-cp312-cp312-macosx_10_9_x86_64.whl"))
    assert report.ok, report.findings


def test_non_pep625_sdist_name_is_refused(tmp_path: Path) -> None:
    _judged(
        make_sdist(tmp_path, "Demo", "1.0", filename="Demo-1.0.tar.gz"),
        "sdist-filename-not-normalized",
    )


# --- platform tags ---------------------------------------------------------------

ACCEPTED_TAGS = [
    "manylinux_2_39_riscv64",
    "musllinux_1_2_riscv64",
    "manylinux2014_aarch64",
    "macosx_10_13_x86_64",
    "macosx_11_0_arm64",
    "macosx_15_0_universal2",
    "win_arm64",
    "ios_13_0_arm64_iphoneos",
    "android_24_arm64_v8a",
    "pyemscripten_2025_0_wasm32",
    "linux_armv7l",
]


@pytest.mark.parametrize("platform", ACCEPTED_TAGS)
def test_platform_tags_pypi_accepts(tmp_path: Path, platform: str) -> None:
    assert check(_wheel(tmp_path, f"demo-1.0-cp312-cp312-{platform}.whl")).ok


@pytest.mark.parametrize(
    "platform", ["linux_x86_64", "linux_aarch64", "pyodide_2024_0_wasm32", "macosx_11_1_arm64"]
)
def test_platform_tags_pypi_refuses(tmp_path: Path, platform: str) -> None:
    path = _wheel(tmp_path, f"demo-1.0-cp312-cp312-{platform}.whl")
    _judged(path, "platform-tag-unsupported")
    (finding,) = check(path).errors
    assert platform in finding.message and "auditwheel" in (finding.hint or "")


# --- metadata --------------------------------------------------------------------


@pytest.mark.parametrize("mv", ["1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"])
def test_metadata_versions_pypi_accepts(tmp_path: Path, mv: str) -> None:
    assert check(_wheel(tmp_path, "demo-1.0-py3-none-any.whl", metadata_version=mv)).ok


def test_metadata_version_20_is_refused(tmp_path: Path) -> None:
    _judged(
        _wheel(tmp_path, "demo-1.0-py3-none-any.whl", metadata_version="2.0"),
        "metadata-version-2.0",
    )


def test_metadata_version_26_is_refused_and_says_why(tmp_path: Path) -> None:
    path = _wheel(tmp_path, "demo-1.0-py3-none-any.whl", metadata_version="2.6")
    _judged(path, "metadata-version-unsupported")
    (finding,) = check(path).errors
    assert "2.6" in finding.message and "2.6" in (finding.hint or "")


def _breaks(tmp_path: Path, code: str, extra: str, **kwargs: object) -> None:
    _judged(_wheel(tmp_path, "demo-1.0-py3-none-any.whl", extra, **kwargs), code)  # type: ignore[arg-type]


def test_direct_reference_in_requires_dist(tmp_path: Path) -> None:
    _breaks(tmp_path, "direct-reference", "Requires-Dist: foo @ git+https://example.com/foo.git")


def test_license_with_license_expression(tmp_path: Path) -> None:
    _breaks(tmp_path, "license-with-license-expression", "License: MIT\nLicense-Expression: MIT")


def test_license_file_missing_from_a_wheel(tmp_path: Path) -> None:
    _breaks(tmp_path, "license-file-missing", "License-Expression: MIT\nLicense-File: LICENSE")


def test_license_file_where_the_spec_puts_it_passes(tmp_path: Path) -> None:
    members = {"demo-1.0.dist-info/licenses/LICENSE": b"MIT\n"}
    path = _wheel(tmp_path, "demo-1.0-py3-none-any.whl", "License-File: LICENSE", members=members)
    assert check(path).ok
    misplaced = {"demo-1.0.dist-info/LICENSE": b"MIT\n"}
    other = tmp_path / "other"
    other.mkdir()
    path = _wheel(other, "demo-1.0-py3-none-any.whl", "License-File: LICENSE", members=misplaced)
    assert "license-file-missing" in _codes(check(path).errors)


def test_license_file_missing_from_an_sdist(tmp_path: Path) -> None:
    _judged(
        make_sdist(tmp_path, "demo", "1.0", metadata_extra="License-File: COPYING"),
        "license-file-missing",
    )


def test_summary_over_512_characters(tmp_path: Path) -> None:
    _breaks(tmp_path, "summary-too-long", "Summary: " + "x" * 513)
    (tmp_path / "ok").mkdir()
    assert check(_wheel(tmp_path / "ok", "demo-1.0-py3-none-any.whl", "Summary: " + "x" * 512)).ok


def test_project_url_label_over_32_characters(tmp_path: Path) -> None:
    _breaks(
        tmp_path, "project-url-label-too-long", "Project-URL: " + "L" * 33 + ", https://example.com"
    )


def test_setuptools_unknown_home_page(tmp_path: Path) -> None:
    _breaks(tmp_path, "invalid-url", "Home-page: UNKNOWN")
    (finding,) = check(tmp_path / "demo-1.0-py3-none-any.whl").errors
    assert "placeholder 'UNKNOWN'" in finding.message


def test_setuptools_unknown_author_email(tmp_path: Path) -> None:
    _breaks(tmp_path, "invalid-email", "Author-email: UNKNOWN")


def test_unknown_description_is_a_warning_everywhere(tmp_path: Path) -> None:
    path = _wheel(tmp_path, "demo-1.0-py3-none-any.whl", description="UNKNOWN")
    report = check(path)
    assert report.ok and "description-placeholder" in _codes(report.warnings)


def test_invalid_classifier(tmp_path: Path) -> None:
    _breaks(tmp_path, "classifier-invalid", "Classifier: Programming Language :: Pithon")


def test_deprecated_classifier_names_its_successor(tmp_path: Path) -> None:
    _breaks(tmp_path, "classifier-deprecated", "Classifier: Framework :: Django CMS :: 4.2")
    (finding,) = check(tmp_path / "demo-1.0-py3-none-any.whl").errors
    assert "Framework :: Django CMS :: 5.0" in finding.message


def test_local_version(tmp_path: Path) -> None:
    _judged(_wheel(tmp_path, "demo-1.0+local-py3-none-any.whl"), "local-version")


# --- archive contents ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [b"[console_scripts]\n../evil = demo:main\n", b"not an ini file\n", b"\xff\xfe"]
)
def test_invalid_entry_points(tmp_path: Path, text: bytes) -> None:
    members = {"demo-1.0.dist-info/entry_points.txt": text}
    _breaks(tmp_path, "entry-points-invalid", "", members=members)


def test_valid_entry_points_pass(tmp_path: Path) -> None:
    members = {"demo-1.0.dist-info/entry_points.txt": b"[console_scripts]\ndemo = demo:main\n"}
    assert check(_wheel(tmp_path, "demo-1.0-py3-none-any.whl", members=members)).ok


def test_wheel_without_record(tmp_path: Path) -> None:
    _breaks(tmp_path, "record-missing", "", record=False)


def test_sparse_tar_member(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        meta = core_metadata("demo", "1.0").encode()
        info = tarfile.TarInfo("demo-1.0/PKG-INFO")
        info.size = len(meta)
        tf.addfile(info, io.BytesIO(meta))
        sparse = tarfile.TarInfo("demo-1.0/holes.bin")
        sparse.type = tarfile.GNUTYPE_SPARSE
        tf.addfile(sparse)
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    _judged(path, "tar-sparse-member")


def test_a_file_over_100_mib_is_warned_not_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_policy, "FILE_SIZE_WARNING", 1000)
    path = make_wheel(tmp_path, "demo", "1.0", payload_size=4000)
    report = check(path)
    assert report.ok
    (warning,) = [f for f in report.warnings if f.code == "file-too-large"]
    assert "File size limit request" in (warning.hint or "")
    assert not checks.refusals([Distribution.open(path)], PYPI)


def test_a_readme_that_does_not_render_is_refused_by_pypi_only(tmp_path: Path) -> None:
    broken = "Title\n=====\n\n.. unknown-directive::\n\n`unclosed\n\n===\nBad\n"
    path = _wheel(tmp_path, "demo-1.0-py3-none-any.whl", description=broken)
    _judged(path, "description-render-failed")
    elsewhere = check(path, registry="pypiserver")
    (warning,) = [f for f in elsewhere.warnings if f.code == "description-render-failed"]
    assert "pypiserver accepts it" in warning.message


# --- the target --------------------------------------------------------------------


def test_testpypi_has_pypis_rules() -> None:
    assert TESTPYPI.upload_rules == PYPI.upload_rules == UPLOAD_RULES
    assert "platform-tag-unsupported" in PYPI.refuses
    assert not profile("pypiserver").refuses


def test_every_rule_has_a_source_a_hint_and_a_detector() -> None:
    inspector = {
        "metadata-version-2.0",
        "sdist-filename-not-normalized",
        "local-version",
        "tar-sparse-member",
        "description-render-failed",
        "description-render-timeout",
        "description-too-deeply-nested",
        "sdist-already-in-release",
    }
    for rule in UPLOAD_RULES:
        assert rule.source.startswith("warehouse ") and rule.hint
        assert (rule.code in _policy.DETECTORS) != (rule.code in inspector), rule.code


def test_check_targets_by_name_or_url(tmp_path: Path) -> None:
    path = _wheel(tmp_path, "demo-1.0-cp312-cp312-linux_x86_64.whl")
    assert not check(path).ok
    assert not check(path, repository_url="https://test.pypi.org/legacy/").ok
    assert check(path, repository_url="https://gitlab.com/api/v4/projects/1/packages/pypi").ok
    assert check(path, registry="devpi").ok
    with pytest.raises(ValueError, match="unknown registry"):
        check(path, registry="nope")
    with pytest.raises(ValueError, match="not both"):
        check(path, registry="pypi", repository_url="https://upload.pypi.org/legacy/")


def test_check_of_nothing_is_an_error(tmp_path: Path) -> None:
    from registry_upload import UnsupportedDistributionError

    with pytest.raises(UnsupportedDistributionError) as raised:
        check(tmp_path)
    assert [p.code for p in raised.value.problems] == ["no-distributions"]
    assert str(tmp_path) in raised.value.message


def test_refusal_lists_each_problem_once(tmp_path: Path) -> None:
    a = Distribution.open(_wheel(tmp_path, "demo-1.0-cp312-cp312-linux_x86_64.whl"))
    b = Distribution.open(_wheel(tmp_path, "Demo-1.0-py3-none-any.whl"))
    with pytest.raises(DistributionError) as raised:
        checks.refuse([a, b], PYPI)
    text = raised.value.message
    assert text.count("linux_x86_64' is not one PyPI accepts") == 1
    assert text.startswith("PyPI would refuse 2 file(s); nothing was sent")
    assert {p.path for p in raised.value.problems} == {str(a.path), str(b.path)}
    assert all(p.severity is Severity.ERROR for p in raised.value.problems)


# --- one sdist per release (reads the index) ------------------------------------------


def test_second_sdist_of_a_release_is_found_on_the_index(tmp_path: Path) -> None:
    old = make_sdist(tmp_path / "old", "demo", "1.0", filename="Demo-1.0.tar.gz")
    new = Distribution.open(make_sdist(tmp_path / "new", "demo", "1.0"))
    other = Distribution.open(make_sdist(tmp_path / "new", "demo", "2.0"))
    with FakeRegistry() as registry, Transport(TransportOptions(proxy="")) as transport:
        upload([old], registry.url)
        before = len(registry.requests)
        lookup = functools.partial(lookup_project_files, transport, registry.index_url)
        found = checks.sdist_conflicts([new, other], lookup, PYPI)
        assert checks.sdist_conflicts([new], lookup, PYPISERVER) == []
        index_reads = registry.requests[before:]
        checks.refuse([other], PYPI, index_lookup=lookup)  # another release: nothing refused
        with pytest.raises(DistributionError) as raised:
            checks.refuse([new, other], PYPI, index_lookup=lookup)
    assert [p.code for p in raised.value.problems] == ["sdist-already-in-release"]
    (finding,) = found
    assert finding.code == "sdist-already-in-release" and finding.path == str(new.path)
    assert "Demo-1.0.tar.gz" in finding.message and finding.severity is Severity.ERROR
    assert len(index_reads) == 1  # one page per project


def test_two_sdists_of_one_release_in_the_batch(tmp_path: Path) -> None:
    a = Distribution.open(make_sdist(tmp_path / "a", "demo", "1.0"))
    b = Distribution.open(make_sdist(tmp_path / "b", "demo", "1.0", filename="Demo-1.0.tar.gz"))
    asked: list[str] = []

    def lookup(project: str) -> IndexLookup:
        asked.append(project)
        return IndexLookup("http://127.0.0.1/simple/demo/", {})

    found = checks.sdist_conflicts([a, b], lookup, PYPI)
    assert [f.path for f in found] == [str(b.path)]
    assert asked == ["demo"]


# --- PyPI's answers, replayed ------------------------------------------------------------

ANSWERS = [
    (
        "wheel-filename-not-normalized",
        "Filename 'PyYAML-6.0.2-py3-none-any.whl' should contain the normalized project "
        "name 'pyyaml', not 'PyYAML'.",
    ),
    (
        "platform-tag-unsupported",
        "Binary wheel 'x.whl' has an unsupported platform tag 'linux_x86_64'.",
    ),
    ("direct-reference", "Can't have direct dependency: foo@ git+https://example.com/foo.git"),
    (
        "license-with-license-expression",
        "License is deprecated when License-Expression is present. Only License-Expression "
        "should be present. See https://packaging.python.org/specifications/core-metadata",
    ),
    ("license-file-missing", "License-File LICENSE does not exist in distribution file x.whl at x"),
    ("record-missing", "Wheel 'x.whl' does not contain the required RECORD file: x/RECORD"),
    (
        "entry-points-invalid",
        "Wheel 'x.whl' has invalid entry points defined in the entry_points.txt file",
    ),
    (
        "tar-sparse-member",
        "Invalid distribution file. tar archive not accepted: Sparse members are not allowed.",
    ),
    ("classifier-invalid", "'Programming Language :: Pithon' is not a valid classifier."),
    (
        "classifier-deprecated",
        "The classifier 'Framework :: Django CMS :: 4.2' has been deprecated, use one of ['x'] instead.",
    ),
    ("summary-too-long", "'summary' field must be 512 characters or less."),
    (
        "project-url-label-too-long",
        "'LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL' must be 32 characters or less.",
    ),
    ("invalid-url", "'UNKNOWN' is not a valid url."),
    ("invalid-email", "'UNKNOWN' is not a valid email address: The email address is not valid."),
    (
        "metadata-version-unsupported",
        "'2.6' is not a valid metadata version. See https://packaging.python.org",
    ),
    ("local-version", "The use of local versions in <Version('1.0+x')> is not allowed."),
]


@pytest.mark.parametrize(("code", "answer"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_pypis_answer_gets_the_rules_hint(tmp_path: Path, code: str, answer: str) -> None:
    from registry_upload import RejectedError
    from registry_upload.credentials import Credentials
    from registry_upload.retry import RetryPolicy
    from registry_upload.testing import Action, Reply

    wheel = make_wheel(tmp_path, "demo", "1.0")
    reply = Reply(400, f"<html><body>{answer}</body></html>", reason=answer)
    with FakeRegistry(path="/legacy/", default=Action("reply", reply)) as registry:
        report = upload(
            [wheel],
            registry.url,
            credentials=Credentials.of("__token__", "pypi-x"),
            retry=RetryPolicy(attempts=1),
        )
        assert len(registry.posts) == 1 and not registry.stored
    (result,) = report.results
    assert isinstance(result.error, RejectedError), result.error
    rule = PYPI.upload_rule(code)
    assert rule is not None and result.error.hint is not None
    assert rule.hint in result.error.hint
