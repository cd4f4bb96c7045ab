"""Draw docs/report.png (1280 px) and docs/report-phone.png (390 px) from the on-call scenario.

    .venv/bin/python scripts/screenshots.py [--full]

The scenario is the one tests/sinks/test_report_on_call.py checks in Chromium:
26 hours of five-minute runs judged by the real judge and stored in the real
history store, a 45-minute gap, a resolved incident, and a breach now. Each
picture is the top of the page — the verdict, what changed, and the first SLO
with its charts — unless ``--full`` asks for all of it. Needs Debian's
``chromium`` (scripts/test.sh installs it).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sinks.test_report_on_call import Chromium, write_scenario  # noqa: E402

SHOTS = (("report.png", 1280, 1660), ("report-phone.png", 390, 2350))  # name, width, height


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the whole page, not its top")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where to write (docs/)")
    args = parser.parse_args()
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        print(
            "screenshots: no chromium on this machine (apt-get install chromium)", file=sys.stderr
        )
        return 1
    with tempfile.TemporaryDirectory(prefix="sloprobe-shots-") as folder:
        report = write_scenario(Path(folder) / "reports", Path(folder) / "history.db")
        browser = Chromium(browser_path, Path(folder) / "profile")
        try:
            for name, width, height in SHOTS:
                browser.open(report.as_uri(), width)
                browser.screenshot(args.out / name, width, None if args.full else height)
                print(f"wrote {args.out / name}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
