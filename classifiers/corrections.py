"""Staff corrections of topics, kept as labelled CSV for the next training run.

When a 办理人员 changes a ticket's topic, the ledger calls :func:`record_topic_correction`; the file
has the ``text,label`` columns ``yuqing classify train --task topic`` reads, plus where the label
came from, so corrections can be appended to (or weighted above) the original training file.
"""

from __future__ import annotations

import csv
from pathlib import Path

from classifiers.errors import TrainingDataError

COLUMNS = ("text", "label", "previous_label", "post_id", "corrected_by", "corrected_at")


def record_topic_correction(
    path: Path,
    *,
    text: str,
    label: str,
    previous_label: str,
    post_id: str,
    corrected_by: str,
    corrected_at: str,
) -> None:
    """Append one correction (the post's text and the right topic) to the CSV at ``path``."""
    if not text.strip() or not label.strip():
        raise TrainingDataError("a topic correction needs the post's text and the corrected label")
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(COLUMNS)
        writer.writerow((text, label, previous_label, post_id, corrected_by, corrected_at))


def read_corrections(path: Path) -> tuple[list[str], list[str]]:
    """(texts, labels) of a corrections file; the latest correction of a post wins."""
    if not path.exists():
        return [], []
    with path.open(encoding="utf-8", newline="") as handle:
        latest = {row["post_id"]: (row["text"], row["label"]) for row in csv.DictReader(handle)}
    return [t for t, _ in latest.values()], [label for _, label in latest.values()]
