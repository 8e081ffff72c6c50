"""The staff console end to end: Playwright drives headless Chromium through the gateway (web/e2e/run.sh)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RUN = ROOT / "web" / "e2e" / "run.sh"


def test_staff_journey_through_the_five_tabs_in_a_real_browser() -> None:
    # run.sh builds what changed and bounds the browser run itself (Playwright globalTimeout 140 s);
    # the timeout here only guards against a hung install (below pytest-timeout's 300 s, to report it clearly).
    proc = subprocess.run(["bash", str(RUN)], cwd=ROOT, capture_output=True, text=True, timeout=280, check=False)
    report = f"{proc.stdout[-8000:]}\n{proc.stderr[-4000:]}\nscreenshots and traces: test-artifacts/web/"
    assert proc.returncode == 0, report
