"""12345 exports as other platforms write them: synonyms, ``columns:``, title rows, merged headers, .xls, GBK.

A file that cannot be read is one dead letter; a row that cannot be an order is one dead letter; the
rest of the same file arrives in posts.raw.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response

from crawlers.errors import SourceConfigError
from crawlers.exports import ExportError, locate_header, read_table, resolver
from crawlers.feeds import FeedSource, load_feeds
from crawlers.items import FailedPage, HotlineItem
from crawlers.spiders.hotline import HotlineInboxSpider
from tests.crawlers.crawling import by_source, crawl_in_child, read_topic
from tests.crawlers.export_files import COLUMNS, GOOD, gbk_csv, write_files
from yuqing.settings import Settings


def _source(inbox: Path, **changes: object) -> FeedSource:
    base = FeedSource(
        kind="hotline-inbox", name="city", display_name="外市导出", inbox=inbox, columns=COLUMNS
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _parse(spider: HotlineInboxSpider, path: Path) -> list[HotlineItem | FailedPage]:
    response = Response(path.as_uri(), body=path.read_bytes(), request=Request(path.as_uri()))
    return list(spider.parse(response, path=path))


def test_synonyms_title_rows_merged_headers_xls_and_gbk_are_read(tmp_path: Path) -> None:
    spider = HotlineInboxSpider(_source(tmp_path))
    out = {path.name: _parse(spider, path) for path in write_files(tmp_path)}
    merged = [i for i in out["title-merged.xlsx"] if isinstance(i, HotlineItem)]
    assert merged[0].fields == {
        "工单编号": "YXM001", "受理时间": "2024-06-10 09:05:00", "来电人": "周先生",
        "来电号码": "13812345678", "诉求内容": "滨江路路灯不亮，夜间行人看不清路面。", "诉求类型": "求助",
        "承办单位": "云溪市城市管理局", "办理状态": "已办结", "所属区域": "滨江片区",
    }  # fmt: skip
    assert merged[0].extra == {"紧急程度": "一般"} and merged[0].origin.endswith("#row=4")
    [bad] = [i for i in out["title-merged.xlsx"] if isinstance(i, FailedPage)]
    assert bad.reason == "bad row: unparseable 受理时间 (row 5)" and bad.url.endswith("#row=5")
    assert "139****4321" in bad.excerpt and "13987654321" not in bad.excerpt
    assert [i.fields["工单编号"] for i in merged] == ["YXM001", "YXM003"]
    gbk = out["gbk.csv"]
    assert [type(i).__name__ for i in gbk] == ["HotlineItem", "FailedPage", "HotlineItem"]
    assert gbk[0].fields["办结时间"] == "2024/06/13 17:00" and gbk[0].fields["回访满意度"] == "满意"  # type: ignore[union-attr]
    assert gbk[1].reason == "bad row: missing 工单编号 (row 3)"  # type: ignore[union-attr]
    old = out["old.xls"]
    assert [i.fields["受理时间"] for i in old] == ["2024-06-14 08:30:00", "2024-06-14 09:45:00"]  # type: ignore[union-attr]
    assert old[0].fields["诉求标题"] == "加装电梯"  # type: ignore[union-attr]
    [broken] = out["broken.xls"]
    assert isinstance(broken, FailedPage) and broken.reason.startswith("unreadable xls file")
    assert {p.name: o for p, o in spider.outcomes.items()} == {
        "title-merged.xlsx": "imported", "gbk.csv": "imported", "old.xls": "imported",
        "broken.xls": "rejected",
    }  # fmt: skip


def test_limits_reject_a_file_with_a_dead_letter_naming_the_limit(tmp_path: Path) -> None:
    path = gbk_csv(tmp_path / "gbk.csv")
    spider = HotlineInboxSpider(_source(tmp_path, max_rows=2))
    [letter] = _parse(spider, path)
    assert (
        isinstance(letter, FailedPage) and letter.reason == "too many rows: more than 2 (the max_rows limit)"
    )
    with pytest.raises(ExportError, match=r"file too large: .* over the limit of 0 MB"):
        read_table(b"x" * 10, ".csv", max_mb=0)


def test_without_the_columns_mapping_an_unknown_header_is_kept_in_extra(tmp_path: Path) -> None:
    spider = HotlineInboxSpider(_source(tmp_path, columns=()))
    [path] = [p for p in write_files(tmp_path) if p.name == "title-merged.xlsx"]
    first = _parse(spider, path)[0]
    assert isinstance(first, HotlineItem) and first.extra == {"片区": "滨江片区", "紧急程度": "一般"}


def test_the_header_is_the_row_naming_most_fields() -> None:
    rows: list[tuple[int, list[object]]] = [
        (1, ["导出", None]),
        (3, ["编号", "诉求内容"]),
        (4, ["A1", "内容"]),
    ]
    resolve = resolver(["工单编号", "诉求内容"], {"工单编号": ["编号"]})
    header = locate_header(rows, resolve, ["工单编号"])
    assert header is not None and (header.row, header.names) == (3, ["工单编号", "诉求内容"])


def test_columns_are_validated_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    entry = "- {kind: hotline-inbox, name: city, display_name: 导出, inbox: in, columns: %s}\n"
    path.write_text(entry % "{工单编号: 单据号, 受理时间: [来电日期, 登记日期]}", encoding="utf-8")
    [feed] = load_feeds(path)
    assert feed.columns == (("工单编号", "单据号"), ("受理时间", "来电日期"), ("受理时间", "登记日期"))
    for columns, field, words in [
        ("{单号: 单据号}", "columns.单号", "未知字段"),
        ("{工单编号: 3}", "columns.工单编号", "expected a header text"),
        ("[单据号]", "columns", "expected a mapping"),
        ("{工单编号: 号, 受理时间: 号}", "columns.受理时间", "已映射到 工单编号"),
    ]:
        path.write_text(entry % columns, encoding="utf-8")
        with pytest.raises(SourceConfigError, match=words) as caught:
            load_feeds(path)
        assert caught.value.field == field and caught.value.board == "city"


@pytest.mark.slow
def test_exports_reach_posts_raw_and_bad_rows_and_files_are_dead_lettered(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_files(inbox)
    settings = Settings(home=tmp_path / "home")
    stats = crawl_in_child(settings, sources=[], feeds=[_source(inbox)])
    posts = {str(key): post for key, post in read_topic(settings, settings.topic_raw)}
    assert sorted(posts) == sorted(f"hotline:city:{order}" for order in GOOD)
    first = posts["hotline:city:YXM001"]
    assert first["hotline"]["caller"] == "138****5678" and first["region"] == "滨江片区"
    assert (
        first["raw"]["extra"] == {"紧急程度": "一般"} and first["published_at"] == "2024-06-10T09:05:00+08:00"
    )
    assert "13500002222" not in str(posts) and "135****2222" in posts["hotline:city:YXO002"]["text"]
    letters = {
        str(letter["key"]).rsplit("/", 1)[1]: letter["error"]
        for _, letter in read_topic(settings, settings.topic_dlq)
    }
    assert letters == {
        "title-merged.xlsx#row=5": "bad row: unparseable 受理时间 (row 5)",
        "gbk.csv#row=3": "bad row: missing 工单编号 (row 3)",
        "broken.xls": letters["broken.xls"],
    }
    assert letters["broken.xls"].startswith("unreadable xls file")
    assert by_source(stats)["city"].published == len(GOOD)
    assert sorted(p.name.split("-", 2)[2] for p in (inbox / "rejected").iterdir()) == ["broken.xls"]
