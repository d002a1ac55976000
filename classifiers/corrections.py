"""Staff corrections of the classifier's judgements, kept as labelled CSV for the next training run.

When staff find a ticket's topic wrong they record 更正主题 on it in the ledger; when its sentiment,
appeal type or urgency is wrong, 更正研判 (the ledger is the record). ``yuqing ledger corrections
--out FILE.csv`` writes those corrections with each post's text, one row per post and task, in the
``text,label`` columns the trainers read plus the ``task`` each row corrects and where its label
came from, so they can be appended to (or weighted above) the original training files.
``read_corrections`` takes one task's rows; ``yuqing models build --corrections`` sorts them
by task itself.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from classifiers.errors import TrainingDataError
from classifiers.risk import ALERT_RISK
from classifiers.tasks import TASKS

TOPIC = "topic"  # what a file from before the ``task`` column corrects


@dataclass(frozen=True)
class Correction:
    """One post's text with the label staff say is right for ``task``, and what the classifier had said."""

    text: str
    label: str
    task: str  # topic, sentiment, appeal or urgency
    previous_label: str
    post_id: str
    corrected_by: str
    corrected_at: str


COLUMNS = tuple(f.name for f in fields(Correction))


def classifier_label(post: Mapping[str, Any], task: str) -> str:
    """What the classifier said of an enriched post for ``task``, as that task's labels are spelt.

    Urgency is not stored as a label: a post is urgent when its risk reached the alert level, as the
    letter models map their urgency onto risk (``classifiers.risk.urgency_points``).
    """
    if task == "appeal":
        return str(post.get("appeal_type") or "")
    if task == "urgency":
        score = (post.get("risk") or {}).get("score")
        return "" if score is None else "yes" if score >= ALERT_RISK else "no"
    return str((post.get(task) or {}).get("label") or "")  # topic, sentiment


def correction_of(
    post: Mapping[str, Any], *, label: str, corrected_by: str, corrected_at: str, task: str = TOPIC
) -> Correction:
    """The correction of an archived (enriched) post: its title and text, as every model reads them.

    Phone and ID numbers are masked: no model has a use for them, and the file is copied around
    for training.
    """
    from core.masking import mask_text

    if task not in TASKS:
        raise TrainingDataError(f"{post.get('id')}: unknown task {task!r}: use one of {', '.join(TASKS)}")
    text = mask_text(f"{post.get('title') or ''} {post.get('text') or ''}".strip())
    if not text or not label.strip():
        raise TrainingDataError(f"{post.get('id')}: a {task} correction needs the post's text and a label")
    previous = classifier_label(post, task)
    post_id = str(post.get("id"))
    return Correction(text, label.strip(), task, previous, post_id, corrected_by, corrected_at)


def write_corrections(path: Path, corrections: Iterable[Correction]) -> int:
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


def has_task_column(path: Path) -> bool:
    """Whether ``path`` is a corrections file of several tasks (a ``task`` column in its header)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False  # the reader that follows reports it
    return "task" in header


def read_corrections(path: Path, task: str = TOPIC) -> tuple[list[str], list[str]]:
    """(texts, labels) of one task's rows in a corrections file; the latest of a post wins.

    A file without a ``task`` column (written before there was one) corrects topics.
    """
    if not path.exists():
        return [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        latest = {
            row["post_id"]: (row["text"], row["label"])
            for row in csv.DictReader(handle)
            if (row.get("task") or TOPIC).strip() == task
        }
    return [t for t, _ in latest.values()], [label for _, label in latest.values()]
