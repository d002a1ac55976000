"""Chinese tokenisation: search-mode jieba words for matching."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from archive import tokens
from archive.tokens import tokenize

REPO = Path(__file__).resolve().parents[2]


def test_search_mode_emits_the_words_inside_a_long_word() -> None:
    assert tokenize("中华人民共和国成立") == [
        "中华",
        "华人",
        "人民",
        "共和",
        "共和国",
        "中华人民共和国",
        "成立",
    ]
    assert tokenize("停车位") == ["停车", "车位", "停车位"]


def test_whitespace_and_punctuation_are_dropped() -> None:
    assert tokenize("噪音扰民！！  要求，查处。") == ["噪音", "扰民", "要求", "查处"]
    assert tokenize("#停车难#【求助】") == ["停车", "停车难", "求助"]
    assert tokenize("！？…… ，。") == []
    assert tokenize("") == []


def test_latin_is_lowercased_and_full_width_is_folded() -> None:
    assert tokenize("COVID 疫情") == ["covid", "疫情"]
    assert tokenize("Ｃ＋＋ 与 ＡＢＣ") == tokenize("c++ 与 abc") == ["c++", "与", "abc"]
    assert tokenize("１２３４５热线") == ["12345", "热线"]


def test_segmentation_does_not_depend_on_neighbouring_text() -> None:
    # HMM guessing is off, so a query cuts exactly as the same words inside a post did.
    query = tokenize("张小明")
    post = tokenize("市民张小明来电反映")
    assert set(query) <= set(post)


def test_the_dictionary_is_built_on_first_use_quietly() -> None:
    script = (
        "import archive.tokens as t, sys\n"
        "assert not t.loaded() and 'rjieba' not in sys.modules, 'built at import'\n"
        "print(' '.join(t.tokenize('小区停车难')))\n"
        "assert t.loaded()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["小区", "停车", "停车难"]
    assert done.stderr == ""


def test_plain_words_keep_long_words_whole() -> None:
    assert tokens.words("中华人民共和国成立 了") == ["中华人民共和国", "成立", "了"]
