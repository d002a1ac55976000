"""The remit taxonomy from YAML: topics, their keywords and the unit responsible for each."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from classifiers.errors import TaxonomyError
from classifiers.risk import SENSITIVE_TERMS


@dataclass(frozen=True)
class Topic:
    """One topic of the department's remit."""

    label: str
    description: str
    unit: str
    ticket_rule: str
    keywords: tuple[str, ...]
    # Other names of this topic in labelled data (e.g. 劳动和社会保障 for 劳动保障), so a model
    # trained on a department's or a contest's labels maps onto the remit.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """The whole remit: its topics and the score below which a post is out of remit."""

    department: str
    topics: tuple[Topic, ...]
    min_score: float
    # The risk lexicon: terms whose mention raises a post's risk (群体性, 上访, 欠薪 …).
    sensitive_terms: tuple[str, ...] = SENSITIVE_TERMS

    def topic(self, label: str) -> Topic | None:
        """The topic with ``label``, if the remit has one."""
        return next((t for t in self.topics if label == t.label or label in t.aliases), None)


def default_taxonomy_path() -> Path:
    """The taxonomy shipped with the package."""
    return Path(str(resources.files("classifiers").joinpath("taxonomy.yaml")))


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (the shipped one by default)."""
    source = path or default_taxonomy_path()
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"{source}: cannot read taxonomy: {exc}") from exc
    return parse_taxonomy(data, where=str(source))


def parse_taxonomy(data: Any, *, where: str = "taxonomy") -> Taxonomy:
    """Validate decoded YAML; each error names the topic and the field."""
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list) or not data["topics"]:
        raise TaxonomyError(f"{where}: needs a non-empty `topics` list")
    topics: list[Topic] = []
    for index, item in enumerate(data["topics"]):
        name = item.get("label") if isinstance(item, dict) else None
        at = f"{where}: topic #{index + 1} ({name or '?'})"
        if not isinstance(item, dict) or not isinstance(name, str) or not name:
            raise TaxonomyError(f"{at}: `label` is required")
        keywords = item.get("keywords", [])
        if not isinstance(keywords, list) or not all(isinstance(k, str) and k for k in keywords):
            raise TaxonomyError(f"{at}: `keywords` must be a list of words")
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            raise TaxonomyError(f"{at}: `aliases` must be a list of names")
        unit = item.get("unit")
        if not isinstance(unit, str) or not unit:
            raise TaxonomyError(f"{at}: `unit` (the responsible office) is required")
        topics.append(
            Topic(
                label=name,
                description=str(item.get("description", "")),
                unit=unit,
                ticket_rule=str(item.get("ticket_rule", "")),
                keywords=tuple(keywords),
                aliases=tuple(aliases),
            )
        )
    labels = [t.label for t in topics]
    if len(set(labels)) != len(labels):
        raise TaxonomyError(f"{where}: topic labels must be unique")
    min_score = data.get("min_score", 0.2)
    if not isinstance(min_score, int | float) or not 0 <= min_score <= 1:
        raise TaxonomyError(f"{where}: `min_score` must be a number between 0 and 1")
    terms = data.get("sensitive_terms", list(SENSITIVE_TERMS))
    if not isinstance(terms, list) or not all(isinstance(t, str) and t for t in terms):
        raise TaxonomyError(f"{where}: `sensitive_terms` must be a list of words")
    return Taxonomy(
        department=str(data.get("department", "")),
        topics=tuple(topics),
        min_score=float(min_score),
        sensitive_terms=tuple(terms),
    )
