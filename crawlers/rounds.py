"""How far the continuous crawl has got: each source's last finished crawl, kept for the scheduler.

The crawl loop records every cycle it completes in ``<crawl state>/rounds.json``: the sources now
configured and, for each source crawled, when its latest crawl started and finished. A cycle counts
whatever its exit code: the crawler tried every source it was due to try (a failing or paused source
would otherwise hold everything back). The briefing schedule reads :func:`crawled_since` to tell
whether a period's posts can have been collected yet: only a crawl that began after the period ended
can have seen all of it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from core.china_time import china_time

log = logging.getLogger(__name__)
ROUNDS_FILE = "rounds.json"


def rounds_path(state_dir: Path) -> Path:
    """The rounds file under the crawl-state directory."""
    return state_dir / ROUNDS_FILE


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("stage=crawl event=rounds-unreadable path=%s error=%s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def record_cycle(
    state_dir: Path,
    *,
    configured: Sequence[str],
    crawled: Sequence[str],
    started: datetime,
    finished: datetime,
    code: int,
) -> None:
    """Record a completed cycle of ``crawled`` sources (atomically; one writer: the crawl loop)."""
    path = rounds_path(state_dir)
    data = _read(path)
    previous = data.get("crawled")
    sources: dict[str, Any] = dict(previous) if isinstance(previous, dict) else {}
    for name in crawled:
        sources[name] = {
            "started": china_time(started).isoformat(timespec="seconds"),
            "finished": china_time(finished).isoformat(timespec="seconds"),
            "code": code,
        }
    names = sorted(set(configured))
    out = {"configured": names, "crawled": {name: sources[name] for name in names if name in sources}}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".rounds-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(out, file, ensure_ascii=False, indent=1)
    Path(temporary).replace(path)


def crawled_since(state_dir: Path) -> datetime | None:
    """The moment since which every configured source has been crawled through, or None.

    That is the earliest start among each configured source's latest finished crawl: every post
    published before it had a crawl to find it. None while some configured source has never
    finished a crawl, or when no crawl loop has recorded anything here.
    """
    data = _read(rounds_path(state_dir))
    configured = data.get("configured")
    crawled = data.get("crawled")
    if not isinstance(configured, list) or not configured or not isinstance(crawled, dict):
        return None
    starts = []
    for name in configured:
        entry = crawled.get(name)
        if not isinstance(entry, dict):
            return None
        try:
            starts.append(china_time(datetime.fromisoformat(str(entry["started"]))))
        except (KeyError, ValueError):
            return None
    return min(starts)
