"""The staff console end to end: Playwright drives headless Chromium through the gateway (web/e2e/run.sh): logs in
on Keycloak's real page as admin (the five-tab journey), cajero and analista (what each role can and cannot do)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RUN = ROOT / "web" / "e2e" / "run.sh"


@pytest.mark.timeout(480)
def test_staff_journey_and_two_roles_through_the_real_login_in_a_real_browser() -> None:
    # run.sh builds what changed and bounds the browser run itself (Playwright globalTimeout 360 s); the timeout
    # here only guards against a hung install (below this test's pytest-timeout of 480 s, to report it clearly).
    proc = subprocess.run(["bash", str(RUN)], cwd=ROOT, capture_output=True, text=True, timeout=460, check=False)
    report = f"{proc.stdout[-8000:]}\n{proc.stderr[-4000:]}\nscreenshots and traces: test-artifacts/web/"
    assert proc.returncode == 0, report
