"""The enrichment a post gets on its way from posts.raw to posts.enriched.

Sentiment, topic, appeal type and risk are pure functions of the post given the loaded models; the
event id also depends on the posts seen before (the in-memory :class:`EventIndex`), which is what
clustering reposts as they stream in means. A replayed post keeps its event id while the index
remembers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.appeal import LETTER_SOURCES, appeal_types
from classifiers.errors import ModelNotFound
from classifiers.events import EventIndex
from classifiers.linear import PREDICT_CHUNK, Featurizer, LinearTextModel, model_probabilities
from classifiers.risk import engagement_per_hour, letter_risk, risk_score
from classifiers.sentiment import appeal_attitudes, label_attitudes, predict_sentiment
from classifiers.store import ModelCard, load_model
from classifiers.taxonomy import Taxonomy, load_taxonomy
from classifiers.topic import TopicClassifier
from core.china_time import parse_time
from core.messages import EnrichedPost, Label, RawPost, Risk

KEYWORD_TOPIC_REF = "keyword-topic@1"
EVENTS_REF = "minhash-lsh@1"
RULES_REF = "rules@3"
# Where no urgency model says otherwise, P(urgent) from here is raised as an alert.
DEFAULT_ALERT_PROBABILITY = 0.5


def alert_probability(urgency_card: ModelCard | None) -> float:
    """The P(urgent) an urgency model's card says to raise an alert from (its CV-chosen threshold)."""
    if urgency_card is None:
        return DEFAULT_ALERT_PROBABILITY
    return float(urgency_card.params.get("alert_probability", DEFAULT_ALERT_PROBABILITY))


def genre_of(source: str) -> str:
    """Letters (message boards, 12345 orders) or social posts (Weibo, news): read by different models."""
    return "letter" if source in LETTER_SOURCES else "social"


@dataclass(frozen=True)
class Enricher:
    """The loaded models and the event index; :meth:`enrich_many` classifies a batch.

    ``sentiment_model`` reads social posts, ``letter_sentiment_model`` letters (the social model
    when there is none); ``appeal_model`` and ``urgency_model`` read letters only.
    """

    sentiment_model: Any
    sentiment_card: ModelCard
    taxonomy: Taxonomy
    topic_model: Any = None
    topic_card: ModelCard | None = None
    appeal_model: Any = None
    appeal_card: ModelCard | None = None
    letter_sentiment_model: Any = None
    letter_sentiment_card: ModelCard | None = None
    urgency_model: Any = None
    urgency_card: ModelCard | None = None
    events: EventIndex = field(default_factory=EventIndex)

    @classmethod
    def load(
        cls, models_dir: Path, taxonomy_path: Path | None = None, *, event_memory: int | None = None
    ) -> Enricher:
        """Load the models under ``models_dir`` (the trusted root): sentiment, and the others if built.

        ``yuqing models build`` builds them all; a department may replace any with its own
        (``yuqing classify train --out <models_dir>/topic``). Without topic or appeal models the
        taxonomy's keywords and the appeal cue words answer; without an urgency model letters get
        the social posts' risk formula.
        """
        sentiment, sentiment_card = load_model(models_dir / "sentiment", root=models_dir)
        loaded = {
            name: _optional(models_dir / directory, models_dir) for name, directory in MODEL_DIRS.items()
        }
        return cls(
            sentiment_model=sentiment,
            sentiment_card=sentiment_card,
            taxonomy=load_taxonomy(taxonomy_path),
            **{f"{name}_model": model for name, (model, _) in loaded.items()},
            **{f"{name}_card": card for name, (_, card) in loaded.items()},
            events=EventIndex() if event_memory is None else EventIndex(capacity=event_memory),
        )

    @property
    def models(self) -> dict[str, str]:
        """name@version of every model an enriched post was classified with."""
        out = {
            "sentiment": self.sentiment_card.ref,
            "topic": self.topic_card.ref if self.topic_card else KEYWORD_TOPIC_REF,
            "appeal": self.appeal_card.ref if self.appeal_card else RULES_REF,
            "events": EVENTS_REF,
            "rules": RULES_REF,
        }
        if self.letter_sentiment_card:
            out["sentiment_letter"] = self.letter_sentiment_card.ref
        if self.urgency_card:
            out["urgency"] = self.urgency_card.ref
        return out

    @property
    def alert_probability(self) -> float:
        """P(urgent) from which a letter is raised, as cross-validation chose it (on the card)."""
        return alert_probability(self.urgency_card)

    def enrich_many(self, posts: Sequence[RawPost]) -> list[EnrichedPost]:
        """Classify a batch of valid raw posts (batched: every model is vectorised).

        Posts are read in chunks per genre; within a chunk every n-gram model shares one
        :class:`Featurizer`, so each text is cleaned and hashed once for all of them.
        """
        if not posts:
            return []
        labels: list[dict[str, Any]] = [{} for _ in posts]
        for genre in ("social", "letter"):
            rows = [i for i, p in enumerate(posts) if genre_of(p["source"]) == genre]
            for start in range(0, len(rows), PREDICT_CHUNK):
                chunk = rows[start : start + PREDICT_CHUNK]
                for i, found in zip(chunk, self._classify([posts[i] for i in chunk], genre), strict=True):
                    labels[i] = found
        events = self.events.assign_many_counted(
            [(p["id"], f"{p['title']} {p['text']}", p["published_at"]) for p in posts]
        )
        models = self.models
        out: list[EnrichedPost] = []
        for post, found, (event, last_hour) in zip(posts, labels, events, strict=True):
            urgency = found.get("urgency")
            risk = (
                self._social_risk(post, found["sentiment"], last_hour)
                if urgency is None
                else letter_risk(
                    urgency[0],
                    self.alert_probability,
                    urgency[1],
                    post["title"],
                    post["text"],
                    post.get("metrics"),
                    self.taxonomy.sensitive_terms,
                    event_last_hour=last_hour,
                )
            )
            enriched: EnrichedPost = {
                **post,
                "sentiment": found["sentiment"],
                "topic": found["topic"],
                "appeal_type": found["appeal"],
                "risk": risk,
                "event_id": event.event_id,
                "models": models,
            }
            out.append(enriched)
        return out

    def _classify(self, posts: Sequence[RawPost], genre: str) -> list[dict[str, Any]]:
        """Sentiment, topic, appeal and (letters with an urgency model) risk of one genre's chunk."""
        titles = [p["title"] for p in posts]
        texts = [p["text"] for p in posts]
        joined = [f"{t} {x}" for t, x in zip(titles, texts, strict=True)]
        batch = Featurizer(joined)
        letter = genre == "letter"
        topics = TopicClassifier(self.taxonomy, self.topic_model).classify_many(titles, texts, batch)
        appeal_model = self.appeal_model if letter else None
        # Read once: they choose the appeal type and tell letter sentiment the letter's attitude.
        appeal_probabilities = (
            None if appeal_model is None else model_probabilities(appeal_model, joined, batch)
        )
        appeals = appeal_types(
            [
                (p["source"], p["title"], p["text"], (p.get("hotline") or {}).get("appeal_type"))
                for p in posts
            ],
            appeal_model,
            batch,
            probabilities=appeal_probabilities,
        )
        model, card = self.sentiment_model, self.sentiment_card
        if letter and self.letter_sentiment_model is not None and self.letter_sentiment_card is not None:
            model, card = self.letter_sentiment_model, self.letter_sentiment_card
        attitude, weight = (
            self._attitudes(posts, appeals, appeal_probabilities, card) if letter else (None, 0.0)
        )
        sentiments = predict_sentiment(model, joined, batch, attitude=attitude, weight=weight)
        urgencies: list[tuple[float, list[str]] | None] = [None] * len(posts)
        if letter and self.urgency_model is not None:
            urgencies = list(self._urgencies(joined, batch))
        return [
            {"sentiment": s, "topic": t, "appeal": a, "urgency": u}
            for s, t, a, u in zip(sentiments, topics, appeals, urgencies, strict=True)
        ]

    def _attitudes(
        self,
        posts: Sequence[RawPost],
        appeals: Sequence[str | None],
        appeal_probabilities: Any,
        card: ModelCard,
    ) -> tuple[Any, float]:
        """What the letters' appeal types say of their attitude, and how much the sentiment card
        lets it weigh: the appeal model's probabilities (``appeal_prior``, models trained on data)
        or the cue rules' labels (``rule_prior``, seed models); a declared hotline type is certain."""
        model_weight = float(card.params.get("appeal_prior", 0.0))
        if model_weight and appeal_probabilities is not None:
            classes = [str(c) for c in self.appeal_model.classes_]
            attitude = appeal_attitudes(classes, appeal_probabilities)
            declared = [i for i, p in enumerate(posts) if (p.get("hotline") or {}).get("appeal_type")]
            if declared:
                attitude[declared] = label_attitudes([appeals[i] for i in declared])
            return attitude, model_weight
        return label_attitudes(appeals), float(card.params.get("rule_prior", 0.0))

    def _urgencies(self, joined: list[str], batch: Featurizer) -> list[tuple[float, list[str]]]:
        """P(urgent) of each letter, with the phrases that drove it for the letters worth reading."""
        classes = [str(c) for c in self.urgency_model.classes_]
        urgent = model_probabilities(self.urgency_model, joined, batch)[:, classes.index("yes")]
        # Phrases only for the letters near an alert: the explanation costs a second pass.
        worth = [i for i, p in enumerate(urgent) if p >= self.alert_probability / 2]
        phrases = dict(zip(worth, _explain(self.urgency_model, batch, worth), strict=True))
        return [(float(p), phrases.get(i, [])) for i, p in enumerate(urgent)]

    def _social_risk(self, post: RawPost, sentiment: Label, last_hour: int) -> Risk:
        published = parse_time(post["published_at"])
        fetched = parse_time(post.get("fetched_at") or post["published_at"], field="fetched_at")
        return risk_score(
            sentiment,
            post["title"],
            post["text"],
            post.get("metrics"),
            (post.get("author") or {}).get("followers"),
            self.taxonomy.sensitive_terms,
            engagement_per_hour=engagement_per_hour(post.get("metrics"), published, fetched),
            event_last_hour=last_hour,
        )


# The models an Enricher loads besides the social sentiment model, by field name and directory.
MODEL_DIRS = {
    "topic": "topic",
    "appeal": "appeal",
    "letter_sentiment": "sentiment-letter",
    "urgency": "urgency",
}


def _explain(model: Any, batch: Featurizer, rows: list[int]) -> list[list[str]]:
    if isinstance(model, LinearTextModel):
        return model.explain(batch, rows)
    return [[] for _ in rows]


def _optional(directory: Path, root: Path) -> tuple[Any, ModelCard | None]:
    try:
        return load_model(directory, root=root)
    except ModelNotFound:
        return None, None
