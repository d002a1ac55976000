"""Paused sources: a source that starts answering with login or captcha pages is paused and alerts.

The state is one JSON file, ``<crawl state>/alerts.json``, that ``yuqing status`` (or an operator) can
read: source name → when, why, which URL, and until when. The runner skips a paused source until its
pause ends; deleting its entry (or the file) resumes it at once.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core.china_time import CHINA_TZ

ALERTS_FILE = "alerts.json"
DEFAULT_PAUSE = timedelta(hours=1)


def alerts_path(state_dir: Path) -> Path:
    """The alerts file under the crawl-state directory."""
    return state_dir / ALERTS_FILE


def read_alerts(state_dir: Path) -> dict[str, dict[str, Any]]:
    """Every recorded pause; an unreadable file is treated as none (it is rewritten on the next pause)."""
    try:
        data = json.loads(alerts_path(state_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pause_source(
    state_dir: Path, source: str, *, reason: str, url: str, now: datetime, pause: timedelta = DEFAULT_PAUSE
) -> dict[str, Any]:
    """Record that ``source`` is paused until ``now + pause``; returns the entry written."""
    alerts = read_alerts(state_dir)
    entry = {
        "status": "paused",
        "reason": reason,
        "url": url,
        "paused_at": now.astimezone(CHINA_TZ).isoformat(timespec="seconds"),
        "until": (now + pause).astimezone(CHINA_TZ).isoformat(timespec="seconds"),
    }
    alerts[source] = entry
    state_dir.mkdir(parents=True, exist_ok=True)
    # Written to a temporary file and renamed, so a reader never sees half a file.
    handle, temp = tempfile.mkstemp(dir=state_dir, prefix=".alerts-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(alerts, out, ensure_ascii=False, indent=2)
    Path(temp).replace(alerts_path(state_dir))
    return entry


def paused_until(state_dir: Path, source: str, *, now: datetime) -> datetime | None:
    """When ``source``'s pause ends, or None if it is not paused (any more)."""
    entry = read_alerts(state_dir).get(source)
    if not isinstance(entry, dict):
        return None
    try:
        until = datetime.fromisoformat(str(entry["until"]))
    except (KeyError, ValueError):
        return None
    return until if until > now else None
