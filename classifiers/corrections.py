"""Staff corrections of topics, kept as labelled CSV for the next training run.

When staff find a ticket's topic wrong they record 更正主题 on it in the ledger (the ledger is the
record). ``yuqing ledger corrections --out FILE.csv`` writes those corrections with each post's
text, in the ``text,label`` columns that ``yuqing classify train --task topic`` reads, plus where
the label came from, so they can be appended to (or weighted above) the original training file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from classifiers.errors import TrainingDataError


@dataclass(frozen=True)
class TopicCorrection:
    """One post's text with the topic staff say is right, and what the classifier had said."""

    text: str
    label: str
    previous_label: str
    post_id: str
    corrected_by: str
    corrected_at: str


COLUMNS = tuple(f.name for f in fields(TopicCorrection))


def correction_of(
    post: Mapping[str, Any], *, label: str, corrected_by: str, corrected_at: str
) -> TopicCorrection:
    """The correction of an archived (enriched) post: its title and text, as the topic model reads them.

    Phone and ID numbers are masked: the topic model has no use for them, and the file is copied
    around for training.
    """
    from crawlers.normalise import mask_text

    text = mask_text(f"{post.get('title') or ''} {post.get('text') or ''}".strip())
    if not text or not label.strip():
        raise TrainingDataError(f"{post.get('id')}: a topic correction needs the post's text and a label")
    previous = (post.get("topic") or {}).get("label") or ""
    post_id = str(post.get("id"))
    return TopicCorrection(text, label.strip(), str(previous), post_id, corrected_by, corrected_at)


def write_corrections(path: Path, corrections: Iterable[TopicCorrection]) -> int:
    """Write the corrections as CSV at ``path`` (replaced whole, never half-written); how many rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    count = 0
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for correction in corrections:
            writer.writerow(astuple(correction))
            count += 1
    partial.replace(path)
    return count


def read_corrections(path: Path) -> tuple[list[str], list[str]]:
    """(texts, labels) of a corrections file; the latest correction of a post wins."""
    if not path.exists():
        return [], []
    with path.open(encoding="utf-8", newline="") as handle:
        latest = {row["post_id"]: (row["text"], row["label"]) for row in csv.DictReader(handle)}
    return [t for t, _ in latest.values()], [label for _, label in latest.values()]
