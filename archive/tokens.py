"""Chinese tokenisation shared by the archive and the classifiers.

:func:`tokenize` is jieba's search-mode cut (every dictionary sub-word of a long word is emitted as
well, so a query for 共和国 finds 中华人民共和国), normalised (NFKC, lowercase) and stripped of
whitespace and punctuation. :func:`bigrams` gives overlapping CJK character pairs, for recall where
segmentation misses a word.

The archive indexes these tokens and tokenises queries with the same function, so a change of
dictionary or options changes what old documents match: re-index after such a change.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import unicodedata
from pathlib import Path

import jieba

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def default_cache_dir() -> Path:
    """The per-user directory jieba keeps its prefix-dictionary cache in (never the shared /tmp)."""
    return Path.home() / ".cache" / "yuqing" / "jieba"


def tokenizer(cache_dir: Path | None = None) -> jieba.Tokenizer:
    """The process's jieba tokenizer, built on first use.

    ``cache_dir`` only matters to the call that builds it (the first); later calls share that
    tokenizer, because each one holds the whole dictionary (tens of MB) in memory. Without a
    writable cache directory jieba still works, only slower to start (~1 s instead of ~0.3 s), and
    logs (with a traceback) that it could not write the cache.
    """
    global _tokenizer
    if _tokenizer is not None:  # the common case, without taking the lock
        return _tokenizer
    with _lock:
        if _tokenizer is None:
            directory = cache_dir if cache_dir is not None else default_cache_dir()
            with contextlib.suppress(OSError):  # see above: no cache, not no tokenizer
                directory.mkdir(parents=True, exist_ok=True)
            # jieba logs its dictionary loading at DEBUG to stderr through its own handler; keep
            # warnings (a cache it cannot write) and drop the chatter.
            logging.getLogger("jieba").setLevel(logging.WARNING)
            built = jieba.Tokenizer()
            built.tmp_dir = str(directory)
            built.initialize()
            _tokenizer = built
        return _tokenizer


@functools.lru_cache(maxsize=1 << 16)
def _searchable(token: str) -> bool:
    # A token made only of whitespace, punctuation or symbols carries nothing to search for.
    # Remembered per token: the same few thousand words make up most of every text.
    return any(unicodedata.category(char)[0] in "LN" for char in token)


def tokenize(text: str, *, cache_dir: Path | None = None) -> list[str]:
    """Search-mode jieba tokens of ``text``, lowercased, without whitespace or punctuation.

    Full-width letters and digits are folded to ASCII first (NFKC), so ＡＢＣ and abc match. HMM
    guessing of unknown words is off: it segments a word differently depending on its neighbours,
    and a query must segment exactly as the posts it should find did. ``cache_dir`` is passed to
    :func:`tokenizer`.
    """
    if not text:
        return []
    normalised = unicodedata.normalize("NFKC", text).lower()
    words = tokenizer(cache_dir).lcut_for_search(normalised, HMM=False)
    return [word for word in (w.strip() for w in words) if word and _searchable(word)]


# CJK Unified Ideographs with extension A, compatibility ideographs, and the supplementary planes'
# extensions B onwards.
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def bigrams(text: str) -> list[str]:
    """Overlapping pairs of adjacent CJK ideographs in ``text`` (a lone ideograph yields itself).

    Pairs never span a non-CJK character, as Elasticsearch's ``cjk`` analyzer does.
    """
    grams: list[str] = []
    run: list[str] = []
    for char in [*unicodedata.normalize("NFKC", text), " "]:
        if _is_cjk(char):
            run.append(char)
            continue
        if len(run) == 1:
            grams.append(run[0])
        grams.extend(run[i] + run[i + 1] for i in range(len(run) - 1))
        run = []
    return grams
