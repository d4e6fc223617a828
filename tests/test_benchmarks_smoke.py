"""The benchmark script runs end to end on tiny inputs, so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(out.read_text())
    large = next(v for k, v in data.items() if k.startswith("one "))
    # every tool is either measured or reported missing, never silently dropped
    assert set(large) == {"registry_upload", "twine", "uv", "curl", "curl (no Expect)"}
    assert large["registry_upload"]["runs"] == 1
    assert large["registry_upload"]["wall_s"] > 0
    small = [k for k in data if "small files" in k]
    assert len(small) == 3
    assert data["import"]["import_registry_upload_ms"] > 0
    assert "targets" in data and data["ratios"]
    assert "== targets" in proc.stdout
