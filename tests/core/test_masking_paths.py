"""Every path that carries a citizen's words out of the service masks them with the one function."""

from __future__ import annotations

from archive.export import COLUMNS, row
from briefing.posts import post_ref
from tests.archive.samples import enriched

PHONE = "+86 139-0000-5678"
ID = "110101199003071234"


def _post() -> object:
    return enriched(
        "board",
        "demo",
        "1",
        published_at="2026-12-01T10:00:00+08:00",
        title=f"请回电{PHONE}",
        text=f"本人身份证{ID}，电话{PHONE}，小区噪音扰民",
    )


def test_the_search_export_masks_titles_and_texts() -> None:
    cells = dict(zip([name for name, _ in COLUMNS], row(_post()), strict=True))  # type: ignore[arg-type]
    assert cells["标题"] == "请回电139****5678"
    assert cells["正文"] == "本人身份证110101********1234，电话139****5678，小区噪音扰民"


def test_the_briefing_quotes_masked_text() -> None:
    ref = post_ref(_post())  # type: ignore[arg-type]
    assert "5678" in ref.excerpt and "139-0000" not in ref.excerpt and ID not in ref.excerpt
    assert ref.title == "请回电139****5678"
