"""Near-duplicate events: reposts and copies of one story cluster into one event, as posts stream in.

Each post's normalised text (links, @mentions, repost markers and punctuation removed) is cut into
overlapping character shingles; a MinHash signature estimates the Jaccard similarity of two posts'
shingle sets, and locality-sensitive hashing over bands of the signature finds the candidates
without comparing a post with every other. A post joins the event of its most similar earlier post
when the estimate reaches ``threshold``, else it starts a new event.

The index lives in the classify worker's memory and is bounded (the oldest posts are forgotten
first). An event's id is derived from its first post's normalised text, so exact copies of a story
get the same id again after a restart; a replayed post keeps the id it was given.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

import numpy as np
import numpy.typing as npt

from core.china_time import parse_time

# "O网页链接" is how Weibo renders a link; "//@name:" starts each layer of a repost chain.
_NOISE = re.compile(
    r"https?://\S+|O网页链接|//@[^:：\s]*[:：]?|@[\w\-]+|转发微博|轉發微博|[\s\W_]+", re.UNICODE
)
Signature = npt.NDArray[np.uint32]


def normalise_for_events(text: str) -> str:
    """The text with everything that differs between copies of one story removed."""
    return _NOISE.sub("", text).lower()


def exact_event_id(key: str) -> str:
    """The id of the event whose first post has this normalised text."""
    return "ev-" + hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def event_id(title: str, text: str) -> str:
    """A stateless id from the first 200 normalised characters (exact copies only)."""
    key = normalise_for_events(text)[:200] or normalise_for_events(title)
    return exact_event_id(key)


# Odd 64-bit multipliers that mix a band's rows into one key (see EventIndex._band_keys); fixed,
# like the hash family, and enough for bands of up to 64 rows.
_BAND_MIX = np.random.default_rng(20_261_202).integers(1, 2**63, size=64, dtype=np.uint64) | np.uint64(1)

# Characters of text whose shingles are hashed in one go (see MinHasher.signatures). 2,048 keeps
# the temporaries (64 hashes of 8 bytes per shingle, ~1 MB) in the CPU cache: 41k posts/s against
# 11k/s at 32,768 on the shared posts, with the same signatures.
CHUNK_CHARS = 2_048


@dataclass(frozen=True)
class MinHasher:
    """MinHash over character ``shingle``-grams with ``bands`` × ``rows`` hash functions.

    The hash family is multiply-shift on 64-bit shingle hashes; its parameters come from a fixed
    seed so that signatures are comparable across processes.
    """

    shingle: int = 3
    bands: int = 16
    rows: int = 4
    seed: int = 20_240_501

    @property
    def permutations(self) -> int:
        """The signature length."""
        return self.bands * self.rows

    @cached_property
    def _params(self) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        rng = np.random.default_rng(self.seed)
        a = rng.integers(1, 2**63, size=self.permutations, dtype=np.uint64) | np.uint64(1)
        b = rng.integers(0, 2**63, size=self.permutations, dtype=np.uint64)
        return a, b

    def signatures(self, texts: Sequence[str]) -> Signature:
        """One signature row per text, computed a chunk of texts at a time (no loop per shingle).

        Each shingle costs ``permutations`` 64-bit words in the temporaries, so a batch of a thousand
        long board messages at once would take hundreds of megabytes for a moment: texts are taken
        in chunks of about :data:`CHUNK_CHARS` characters, which keeps the temporaries in the CPU
        cache. The result does not depend on the chunking.
        """
        if not texts:
            return np.zeros((0, self.permutations), dtype=np.uint32)
        chunks: list[Signature] = []
        start, size = 0, 0
        for end, text in enumerate(texts, start=1):
            size += max(len(text), self.shingle)
            if size >= CHUNK_CHARS:
                chunks.append(self._signatures(texts[start:end]))
                start, size = end, 0
        if start < len(texts):
            chunks.append(self._signatures(texts[start:]))
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)

    def _signatures(self, texts: Sequence[str]) -> Signature:
        a, b = self._params
        k = self.shingle
        # A text shorter than a shingle is padded to one shingle.
        padded = [text.ljust(k, "\0") for text in texts]
        codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=len(padded))
        text_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        counts = lengths - k + 1  # shingles per text
        shingle_starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        # Positions in ``codes`` where each text's shingles begin, skipping windows across texts.
        positions = np.arange(int(counts.sum())) + np.repeat(text_starts - shingle_starts, counts)
        # A polynomial hash of each window of k code points; uint64 arithmetic wraps silently.
        h = np.zeros(len(positions), dtype=np.uint64)
        for offset in range(k):
            h = h * np.uint64(1_000_003) + codes[positions + offset]
        permuted = np.multiply(h[:, None], a[None, :])  # one temporary, updated in place
        permuted += b
        permuted >>= np.uint64(32)
        return np.minimum.reduceat(permuted, shingle_starts, axis=0).astype(np.uint32)


@dataclass
class Event:
    """One story: how many posts tell it and the post that represents it (its first)."""

    event_id: str
    count: int
    representative_id: str
    representative_text: str
    first_seen: str
    last_seen: str
    # Publication times of its latest posts, for velocity (how many arrived in the last hour).
    recent: deque[datetime] = field(default_factory=lambda: deque(maxlen=1000), repr=False)

    def count_within(self, moment: datetime, window: timedelta = timedelta(hours=1)) -> int:
        """How many of the remembered latest posts were published in ``window`` up to ``moment``."""
        # Posts arrive roughly in time order: walk back from the newest and stop at the first one
        # older than the window instead of scanning a thousand.
        start, count = moment - window, 0
        for t in reversed(self.recent):
            if t < start:
                break
            count += t <= moment
        return count


class EventIndex:
    """Incremental near-duplicate clustering with MinHash-LSH, remembering the last ``capacity`` posts."""

    def __init__(
        self,
        hasher: MinHasher | None = None,
        *,
        threshold: float = 0.5,
        min_chars: int = 8,
        capacity: int = 200_000,
        bucket_size: int = 50,
    ) -> None:
        self.hasher = hasher or MinHasher()
        self.threshold = threshold
        # Below this many normalised characters a post is matched only by exact copy: "加油" is
        # not a story, and shingles of a few characters match far too much.
        self.min_chars = min_chars
        self.capacity = capacity
        # A story reposted ten thousand times would make every lookup compare with all its copies;
        # a bucket keeps its first few members, which find every later copy just as well.
        self.bucket_size = bucket_size
        self._posts: OrderedDict[str, tuple[str, Signature | None]] = OrderedDict()
        # band key -> the post id of its one member, or a list of up to ``bucket_size``
        self._buckets: list[dict[int, str | list[str]]] = [{} for _ in range(self.hasher.bands)]
        self._events: dict[str, Event] = {}
        self._remembered: dict[str, int] = {}  # event id -> how many of its posts are remembered

    def __len__(self) -> int:
        """How many posts the index remembers."""
        return len(self._posts)

    @property
    def event_count(self) -> int:
        """How many events the index remembers."""
        return len(self._events)

    def event(self, event_id: str) -> Event | None:
        """The event with this id, while the index remembers any of its posts."""
        return self._events.get(event_id)

    def assign_many_counted(self, posts: Sequence[tuple[str, str, str]]) -> list[tuple[Event, int]]:
        """Each post's event with how many of its posts arrived in the hour up to it, at that moment.

        The count is taken as each post is added, so a batch's later copies see its earlier ones
        and not the other way round, exactly as if the posts had come one by one.
        """
        keys = [normalise_for_events(text) for _, text, _ in posts]
        long_enough = [i for i, key in enumerate(keys) if len(key) >= self.min_chars]
        signatures = self.hasher.signatures([keys[i][:400] for i in long_enough])
        # Band keys of the whole batch in one numpy call: per post, it cost a sixth of the index.
        by_position = dict(
            zip(long_enough, zip(signatures, self._band_keys(signatures), strict=True), strict=True)
        )
        out: list[tuple[Event, int]] = []
        for i, (post_id, text, published_at) in enumerate(posts):
            moment = parse_time(published_at)
            event = self._assign(
                post_id, text, published_at, moment, keys[i], *by_position.get(i, (None, []))
            )
            out.append((event, event.count_within(moment)))
        return out

    def _assign(
        self,
        post_id: str,
        text: str,
        published_at: str,
        moment: datetime,
        key: str,
        signature: Signature | None,
        bands: list[int],
    ) -> Event:
        known = self._posts.get(post_id)
        if known is not None:  # a replay: same post, same event, counted once
            return self._events[known[0]]
        chosen = None
        if signature is not None:
            chosen = self._best_match(signature, bands)
        if chosen is None:
            chosen = exact_event_id(key[:200] or post_id)
        event = self._events.get(chosen)
        if event is None:
            event = Event(chosen, 0, post_id, text, published_at, published_at)
            self._events[chosen] = event
        event.count += 1
        event.first_seen = min(event.first_seen, published_at)
        event.last_seen = max(event.last_seen, published_at)
        event.recent.append(moment)
        self._remember(post_id, chosen, signature, bands)
        return event

    def _band_keys(self, signatures: Signature) -> list[list[int]]:
        """Each signature's band keys (rows of ``signatures``, or one signature alone: one list)."""
        # Each band's rows mixed into one 64-bit number (uint64 arithmetic wraps): a Python int is
        # smaller than the band's bytes, and two bands that collide only add a candidate, which
        # the comparison of whole signatures then turns down.
        rows = signatures.reshape(-1, self.hasher.bands, self.hasher.rows).astype(np.uint64)
        mixed: list[list[int]] = (rows * _BAND_MIX[: self.hasher.rows]).sum(axis=2, dtype=np.uint64).tolist()
        return mixed

    def _best_match(self, signature: Signature, bands: list[int]) -> str | None:
        candidates: set[str] = set()
        for bucket, band_key in zip(self._buckets, bands, strict=True):
            members = bucket.get(band_key)
            if isinstance(members, str):
                candidates.add(members)
            elif members is not None:
                candidates.update(members)
        if not candidates:
            return None
        # Only posts with a signature are in the buckets.
        pairs = [(c, stored) for c in candidates if (stored := self._posts[c][1]) is not None]
        # One comparison for all candidates: copies of a story share every bucket, so there are
        # often dozens, and a numpy call per candidate cost more than the comparison itself.
        # np.array, not np.stack: stack's shape checks cost more than the copy.
        agreeing = np.count_nonzero(np.array([stored for _, stored in pairs]) == signature, axis=1)
        best = int(agreeing.argmax())
        if agreeing[best] < self.threshold * signature.size:
            return None
        return self._posts[pairs[best][0]][0]

    def _remember(self, post_id: str, event: str, signature: Signature | None, bands: list[int]) -> None:
        self._posts[post_id] = (event, signature)
        self._remembered[event] = self._remembered.get(event, 0) + 1
        if signature is not None:
            for bucket, band_key in zip(self._buckets, bands, strict=True):
                # Most buckets hold one post: its id alone, not a list (a third of the index's memory).
                members = bucket.get(band_key)
                if members is None:
                    bucket[band_key] = post_id
                elif isinstance(members, str):
                    if self.bucket_size > 1:
                        bucket[band_key] = [members, post_id]
                elif len(members) < self.bucket_size:
                    members.append(post_id)
        while len(self._posts) > self.capacity:
            self._forget(*self._posts.popitem(last=False))

    def _forget(self, post_id: str, entry: tuple[str, Signature | None]) -> None:
        event, signature = entry
        if signature is not None:
            for bucket, band_key in zip(self._buckets, self._band_keys(signature)[0], strict=True):
                members = bucket.get(band_key)
                if isinstance(members, str):
                    if members == post_id:
                        del bucket[band_key]
                elif members is not None:
                    if post_id in members:
                        members.remove(post_id)
                    if len(members) == 1:
                        bucket[band_key] = members[0]
                    elif not members:
                        del bucket[band_key]
        self._remembered[event] -= 1
        if not self._remembered[event]:  # the story's last remembered post is gone: so is the story
            del self._remembered[event]
            del self._events[event]
