"""Open `golf verify --format html` in a real headless browser and check what it draws.

    python tools/check_report_html.py [RECORD_DIR] [--screenshot out.png]

Renders the HTML report of RECORD_DIR (default: golf's smoke record) with its train_loss curves and score
chart, loads it in headless Chromium (chromium, chromium-headless-shell, google-chrome, whichever is
installed), reads back the DOM the browser built and checks that every seed has a polyline and a bar, and
that the page has no script and loads nothing from the network. Exit status 0 ok, 1 a check failed, 77 no
browser installed (skipped). tests/test_report_html.py runs this when a browser is present.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "headless_shell")
SKIPPED = 77


def find_browser() -> str | None:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    for path in ("/usr/lib/chromium/headless_shell", "/usr/lib/chromium-headless-shell/headless_shell"):
        if os.access(path, os.X_OK):
            return path
    return None


def render(record_dir: Path) -> str:
    from golf.judge.verify import verify_paths
    from golf.render.html import render_html

    return render_html(verify_paths([record_dir], curves=True))


def browse(browser: str, page: Path, screenshot: Path | None) -> str:
    """The DOM as the browser serialises it after loading the page."""
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
    dom = subprocess.run(base + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    if dom.returncode != 0:
        raise RuntimeError(f"{browser} failed ({dom.returncode}): {dom.stderr.strip()[-500:]}")
    if screenshot is not None:
        subprocess.run(base + [f"--screenshot={screenshot}", "--window-size=1000,1600", page.as_uri()],
                       capture_output=True, timeout=120, check=True)
    return dom.stdout


def check(dom: str, seeds: list[str]) -> list[str]:
    problems = []
    if "<script" in dom.lower():
        problems.append("the page holds a script")
    if re.search(r"""(?:src|href)=["']https?://""", dom):
        problems.append("the page loads something from the network")
    drawn = re.findall(r'<polyline[^>]*data-series="seed ([^"]+)"', dom)
    bars = re.findall(r'<rect[^>]*data-seed="([^"]+)"', dom)
    for seed in seeds:
        if seed not in drawn:
            problems.append(f"no train_loss curve for seed {seed} (drawn: {drawn})")
        if seed not in bars:
            problems.append(f"no score bar for seed {seed} (bars: {bars})")
    if "<svg" not in dom:
        problems.append("no SVG in the page")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record", nargs="?", default=str(REPO / "records/track_smoke/2026-11-23_ReferenceBaseline"))
    parser.add_argument("--screenshot", type=Path, help="also save a PNG of the page")
    args = parser.parse_args()
    browser = find_browser()
    if browser is None:
        print("check_report_html: no headless Chromium installed; skipped", file=sys.stderr)
        return SKIPPED
    from golf.read.records import load_record

    seeds = [str(log.seed) for log in load_record(args.record).unique_logs if log.seed is not None]
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(render(Path(args.record)), encoding="utf-8")
        dom = browse(browser, page, args.screenshot)
    problems = check(dom, seeds)
    for problem in problems:
        print(f"check_report_html: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_report_html: {browser} drew {len(seeds)} curves and {len(seeds)} bars; no script, no network")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
