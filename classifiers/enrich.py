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

from classifiers.appeal import appeal_types
from classifiers.errors import ModelNotFound
from classifiers.events import EventIndex
from classifiers.risk import engagement_per_hour, risk_score
from classifiers.sentiment import predict_sentiment
from classifiers.store import ModelCard, load_model
from classifiers.taxonomy import Taxonomy, load_taxonomy
from classifiers.topic import TopicClassifier
from stream.messages import EnrichedPost, RawPost, parse_time

KEYWORD_TOPIC_REF = "keyword-topic@1"
EVENTS_REF = "minhash-lsh@1"
RULES_REF = "rules@2"


@dataclass(frozen=True)
class Enricher:
    """The loaded models and the event index; :meth:`enrich_many` classifies a batch."""

    sentiment_model: Any
    sentiment_card: ModelCard
    taxonomy: Taxonomy
    topic_model: Any = None
    topic_card: ModelCard | None = None
    appeal_model: Any = None
    appeal_card: ModelCard | None = None
    events: EventIndex = field(default_factory=EventIndex)

    @classmethod
    def load(
        cls, models_dir: Path, taxonomy_path: Path | None = None, *, event_memory: int | None = None
    ) -> Enricher:
        """Load the models under ``models_dir`` (the trusted root): sentiment, and topic/appeal if trained.

        ``sentiment`` is built by ``yuqing models build``; ``topic`` and ``appeal`` exist once a
        department trains them (``yuqing classify train --out <models_dir>/topic``). Without them
        the taxonomy's keywords and the appeal cue words answer.
        """
        sentiment, sentiment_card = load_model(models_dir / "sentiment", root=models_dir)
        topic, topic_card = _optional(models_dir / "topic", models_dir)
        appeal, appeal_card = _optional(models_dir / "appeal", models_dir)
        return cls(
            sentiment_model=sentiment,
            sentiment_card=sentiment_card,
            taxonomy=load_taxonomy(taxonomy_path),
            topic_model=topic,
            topic_card=topic_card,
            appeal_model=appeal,
            appeal_card=appeal_card,
            events=EventIndex() if event_memory is None else EventIndex(capacity=event_memory),
        )

    @property
    def models(self) -> dict[str, str]:
        """name@version of every model an enriched post was classified with."""
        return {
            "sentiment": self.sentiment_card.ref,
            "topic": self.topic_card.ref if self.topic_card else KEYWORD_TOPIC_REF,
            "appeal": self.appeal_card.ref if self.appeal_card else RULES_REF,
            "events": EVENTS_REF,
            "rules": RULES_REF,
        }

    def enrich_many(self, posts: Sequence[RawPost]) -> list[EnrichedPost]:
        """Classify a batch of valid raw posts (batched: every model is vectorised)."""
        if not posts:
            return []
        titles = [p["title"] for p in posts]
        texts = [p["text"] for p in posts]
        sentiments = predict_sentiment(
            self.sentiment_model, [f"{t} {x}" for t, x in zip(titles, texts, strict=True)]
        )
        topics = TopicClassifier(self.taxonomy, self.topic_model).classify_many(titles, texts)
        appeals = appeal_types(
            [
                (p["source"], p["title"], p["text"], (p.get("hotline") or {}).get("appeal_type"))
                for p in posts
            ],
            self.appeal_model,
        )
        events = self.events.assign_many_counted(
            [(p["id"], f"{p['title']} {p['text']}", p["published_at"]) for p in posts]
        )
        models = self.models
        out: list[EnrichedPost] = []
        for post, sentiment, topic, appeal, (event, last_hour) in zip(
            posts, sentiments, topics, appeals, events, strict=True
        ):
            published = parse_time(post["published_at"])
            fetched = parse_time(post.get("fetched_at") or post["published_at"], field="fetched_at")
            risk = risk_score(
                sentiment,
                post["title"],
                post["text"],
                post.get("metrics"),
                (post.get("author") or {}).get("followers"),
                self.taxonomy.sensitive_terms,
                engagement_per_hour=engagement_per_hour(post.get("metrics"), published, fetched),
                event_last_hour=last_hour,
            )
            enriched: EnrichedPost = {
                **post,
                "sentiment": sentiment,
                "topic": topic,
                "appeal_type": appeal,
                "risk": risk,
                "event_id": event.event_id,
                "models": models,
            }
            out.append(enriched)
        return out

    def enrich(self, post: RawPost) -> EnrichedPost:
        """Classify one post."""
        return self.enrich_many([post])[0]


def _optional(directory: Path, root: Path) -> tuple[Any, ModelCard | None]:
    try:
        return load_model(directory, root=root)
    except ModelNotFound:
        return None, None
