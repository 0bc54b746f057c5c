"""bench/fault_campaign.py, short: faults at random under a crowd on two gates, nothing lost."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.sync.rig import ROOT


@pytest.mark.slow
def test_a_short_fault_campaign_loses_and_duplicates_nothing() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "fault_campaign.py"),
            "--minutes",
            "0.6",
            "--seed",
            "20261123",
            "--spacing-s",
            "5",
            "--verbose",
            "--drain-timeout-s",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    faults = re.findall(r"^\s+[\d.]+ s  (.+)$", output, flags=re.MULTILINE)
    assert len(faults) >= 5, output
    assert re.search(r"^missing:\s+0$", output, flags=re.MULTILINE), output
    assert re.search(r"^duplicated:\s+0$", output, flags=re.MULTILINE), output
    produced = int(re.search(r"^entries produced:\s+(\d+)$", output, flags=re.MULTILINE)[1])  # type: ignore[index]
    assert produced > 500, output
    assert "gap report:         empty" in output
