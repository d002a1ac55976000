"""A screenshot of the running dashboard, taken with Debian's chromium.

``python -m yuqing.screenshot --url http://127.0.0.1:8501 --out docs/dashboard.png``

Playwright drives the system browser (``/usr/bin/chromium``); it never downloads one of its own, so
``playwright install`` is neither needed nor wanted. The page is captured only after a Streamlit
element has appeared: before its websocket fills the page, a Streamlit app is a grey skeleton.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
DEFAULT_URL = "http://127.0.0.1:8501"
DEFAULT_WAIT_FOR = "[data-testid='stDataFrame']"
# Streamlit marks its root element with the state of the page's script run.
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
INSTALL_HINT = "apt-get install -y chromium fonts-noto-cjk"
# Streamlit scrolls its main area inside the page, so a "full page" is only as tall as the window:
# the window is grown to the content's height before the capture.
CONTENT_HEIGHT_JS = """() => Math.max(
  document.documentElement.scrollHeight,
  ...Array.from(document.querySelectorAll("[data-testid='stMain'], [data-testid='stAppViewContainer']"),
                (element) => element.scrollHeight))"""


class ScreenshotError(RuntimeError):
    """The screenshot could not be taken; the message says why and what to do."""


@dataclass(frozen=True)
class Shot:
    """What to capture and how: the page, the file, the element to wait for and the timings."""

    url: str
    out: Path
    wait_for: str = DEFAULT_WAIT_FOR
    width: int = 1440
    height: int = 900
    settle_s: float = 2.0
    timeout_s: float = 60.0
    chromium: Path = CHROMIUM
    username: str | None = None
    password: str | None = None


def sign_in(page: Any, username: str, password: str, timeout_ms: float) -> None:
    """Fill the dashboard's sign-in form as a user would."""
    page.get_by_label("用户名").fill(username, timeout=timeout_ms)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


@contextmanager
def _signed_in_page(shot: Shot) -> Iterator[Any]:
    """A chromium page on ``shot.url``, signed in when the shot has a username."""
    if not shot.chromium.exists():
        raise ScreenshotError(f"{shot.chromium} is missing: install it with `{INSTALL_HINT}`")
    # Imported here so that importing this module (e.g. for --help) does not need playwright.
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    timeout_ms = shot.timeout_s * 1000
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(shot.chromium), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": shot.width, "height": shot.height}, locale="zh-CN")
            try:
                page.goto(shot.url, wait_until="domcontentloaded", timeout=timeout_ms)
            except PlaywrightError as exc:
                # Playwright appends a multi-line call log; its first line holds the reason.
                reason = str(exc).splitlines()[0]
                raise ScreenshotError(
                    f"cannot open {shot.url}: is the dashboard running? ({reason})"
                ) from exc
            if shot.username is not None:
                sign_in(page, shot.username, shot.password or "", timeout_ms)
            yield page
        finally:
            browser.close()


def _capture(page: Any, shot: Shot, wait_for: str, out: Path) -> Path:
    """Wait for ``wait_for`` and then ``settle_s``, grow the window to the content, save a PNG."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(wait_for, state="visible", timeout=shot.timeout_s * 1000)
    except PlaywrightTimeout as exc:
        raise ScreenshotError(f"{wait_for} did not appear on {shot.url} within {shot.timeout_s:g} s") from exc
    # The heading arrives while the page's script still runs, and widgets drawn before its end can
    # show their (English) placeholder instead of their value: wait for the run to end.
    try:
        page.wait_for_selector(APP_IDLE, state="attached", timeout=shot.timeout_s * 1000)
    except PlaywrightTimeout as exc:
        raise ScreenshotError(f"{shot.url} was still running after {shot.timeout_s:g} s") from exc
    # Charts and the data grid draw after their element exists; give them a moment.
    page.wait_for_timeout(shot.settle_s * 1000)
    page.set_viewport_size({"width": shot.width, "height": shot.height})
    content_height = int(page.evaluate(CONTENT_HEIGHT_JS))
    if content_height > shot.height:
        page.set_viewport_size({"width": shot.width, "height": content_height})
        page.wait_for_timeout(500)
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=True)
    return out


def take(shot: Shot) -> Path:
    """Open ``shot.url``, wait for ``shot.wait_for`` and then ``settle_s``, save a full-page PNG."""
    with _signed_in_page(shot) as page:
        return _capture(page, shot, shot.wait_for, shot.out)


def take_pages(shot: Shot, titles: Sequence[str], names: Sequence[str] = ()) -> list[Path]:
    """One PNG per page title, ``<shot.out>/<name>.png`` (``<n>-<title>`` without names): sign in
    once, then open each page from the sidebar as a user would (a new URL would start a new,
    signed-out session)."""
    shots = []
    names = list(names) or [f"{number}-{title}" for number, title in enumerate(titles, start=1)]
    with _signed_in_page(shot) as page:
        for title, name in zip(titles, names, strict=True):
            link = page.locator("[data-testid='stSidebarNavLink']", has_text=title)
            try:
                link.first.click(timeout=shot.timeout_s * 1000)
            except Exception as exc:  # playwright raises several kinds; each means "no such page here"
                raise ScreenshotError(f"no page {title!r} in the sidebar of {shot.url}") from exc
            wait_for = f"h1:has-text('{title}')"
            shots.append(_capture(page, shot, wait_for, shot.out / f"{name}.png"))
    return shots


def has_chinese_font() -> bool | None:
    """Whether fontconfig knows a Chinese font (``None`` when fontconfig itself is missing)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    listed = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def parse_args(argv: Sequence[str] | None = None) -> tuple[Shot, list[str], list[str]]:
    """The command line as a :class:`Shot`, the page titles to capture (none: just the URL) and
    their file names."""
    parser = argparse.ArgumentParser(
        prog="python -m yuqing.screenshot", description="Screenshot of the running dashboard (PNG)."
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"page to capture (default {DEFAULT_URL})")
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write (a folder with --pages)")
    parser.add_argument(
        "--pages",
        default="",
        help="page titles, comma-separated, e.g. 值班监测,回应台账",
    )
    parser.add_argument("--names", default="", help="file names for --pages, comma-separated")
    parser.add_argument(
        "--wait-for", default=DEFAULT_WAIT_FOR, help=f"CSS selector to wait for (default {DEFAULT_WAIT_FOR})"
    )
    parser.add_argument("--width", type=int, default=1440, help="viewport width in pixels")
    parser.add_argument("--height", type=int, default=900, help="viewport height in pixels")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait after the selector")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the page")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM, help="browser executable")
    parser.add_argument("--username", help="sign in as this user first")
    parser.add_argument("--password-stdin", action="store_true", help="read the sign-in password from stdin")
    args = parser.parse_args(argv)
    shot = Shot(
        url=args.url,
        out=args.out,
        wait_for=args.wait_for,
        width=args.width,
        height=args.height,
        settle_s=args.settle,
        timeout_s=args.timeout,
        chromium=args.chromium,
        username=args.username,
        password=sys.stdin.readline().rstrip("\n") if args.password_stdin else None,
    )
    titles = [title.strip() for title in args.pages.split(",") if title.strip()]
    names = [name.strip() for name in args.names.split(",") if name.strip()]
    if names and len(names) != len(titles):
        parser.error("--names needs one name per page in --pages")
    return shot, titles, names


def main(argv: Sequence[str] | None = None) -> int:
    """Take the screenshot; print where it went, or the reason it failed (exit status 1)."""
    shot, titles, names = parse_args(argv)
    if has_chinese_font() is False:
        # Not fatal (the layout is still worth seeing), but every Chinese character would be a box.
        print(
            f"warning: no Chinese font installed, text will show as boxes: `{INSTALL_HINT}`", file=sys.stderr
        )
    try:
        paths = take_pages(shot, titles, names) if titles else [take(shot)]
    except ScreenshotError as exc:
        print(f"screenshot failed: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
