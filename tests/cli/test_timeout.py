"""``exportctl --timeout``: the whole command ends in time against a server that drips."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.support import write_manifest
from tests.http.hostile import serve_hostile


def test_plan_against_a_dripping_server_ends_at_the_timeout_with_a_clear_message(
    tmp_path: Path,
) -> None:
    manifest = write_manifest(tmp_path)
    env = {**os.environ, "MAMMOTH_API_KEY": "k", "MAMMOTH_API_SECRET": "s"}
    env["EXPORTCTL_TEST_PG_PASSWORD"] = "pw-for-the-test"
    with serve_hostile("drip") as base_url:
        start = time.monotonic()
        command = [sys.executable, "-m", "reconciler", "--timeout", "1.5", "plan"]
        done = subprocess.run(
            [*command, "-f", str(manifest), "--endpoint", base_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        elapsed = time.monotonic() - start
    assert done.returncode == 1
    assert "did not finish within 1.5 s (--timeout) and stopped" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 20  # the per-request deadline alone would be 60 s
