"""Loading sources.yaml: the packaged file, the demo helper, and errors naming the board and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crawlers.errors import SourceConfigError
from crawlers.sources import PACKAGED_SOURCES, FieldSelector, load_sources
from demo_site import write_demo_sources
from yuqing.settings import Settings

VALID_BOARD = {
    "name": "city-board",
    "display_name": "某市留言板",
    "start_url": "https://example.gov.cn/liuyan/list.html",
    "time_format": "%Y-%m-%d %H:%M:%S",
    "list": {"rows": "table.list tr", "detail_link": "a::attr(href)", "next_page": "a.next::attr(href)"},
    "fields": {
        "native_id": "td.no::text",
        "title": "h1::text",
        "published_at": {"xpath": "//th[.='留言时间']/following-sibling::td[1]", "re": r"\d{4}-\d\d-\d\d"},
        "text": "div.content",
    },
}


def write(tmp_path: Path, boards: object) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(boards, allow_unicode=True), encoding="utf-8")
    return path


def board(**changes: object) -> dict[str, object]:
    entry = {**VALID_BOARD, "list": dict(VALID_BOARD["list"]), "fields": dict(VALID_BOARD["fields"])}
    for key, value in changes.items():
        section, _, name = key.partition("__")
        target = entry[section] if name else entry
        if value is None:
            target.pop(name or section, None)
        else:
            target[name or section] = value
    return entry


def test_the_packaged_sources_point_at_the_demo_site_on_its_default_port():
    [source] = load_sources(PACKAGED_SOURCES)
    assert source.name == "demo-liuyan"
    assert source.start_url == f"http://127.0.0.1:{Settings().demo_port}/liuyan/list.html"
    assert source.obey_robots is None  # the crawl policy decides: obey


def test_a_valid_board_loads_into_frozen_dataclasses(tmp_path):
    [source] = load_sources(
        write(tmp_path, [board(max_pages=5, obey_robots=False, region="某市", polite=False)])
    )
    assert source.fields.published_at == FieldSelector(
        "xpath", "//th[.='留言时间']/following-sibling::td[1]", r"\d{4}-\d\d-\d\d"
    )
    assert source.rows == FieldSelector("css", "table.list tr")
    assert (source.max_pages, source.obey_robots, source.region, source.polite) == (5, False, "某市", False)
    assert load_sources(write(tmp_path, [board()]))[0].polite is True
    assert source.time_format == ("%Y-%m-%d %H:%M:%S",)
    with pytest.raises(AttributeError):
        source.name = "changed"  # type: ignore[misc]


def test_write_demo_sources_moves_every_board_to_the_given_site(tmp_path):
    path = write_demo_sources(tmp_path / "demo.yaml", "http://127.0.0.1:45678", real=True)
    sources = load_sources(path)
    assert [s.name for s in sources] == ["demo-liuyan", "teddy2020-liuyan"]
    assert [s.start_url for s in sources] == [
        "http://127.0.0.1:45678/liuyan/list.html",
        "http://127.0.0.1:45678/real/list.html",
    ]
    assert [s.name for s in load_sources(write_demo_sources(tmp_path / "d.yaml", "http://h:1"))] == [
        "demo-liuyan"
    ]


@pytest.mark.parametrize(
    ("entry", "field", "reason"),
    [
        (board(name="City:Board"), "name", "a-z"),
        (board(display_name=None), "display_name", "missing"),
        (board(start_url="ftp://example.gov.cn/list"), "start_url", "not an http"),
        (board(selectors={"rows": "tr"}), "selectors", "unknown key"),
        (board(list=None), "list", "missing"),
        (board(list__rows=None), "list.rows", "missing selector"),
        (board(list__detail_link="a[href"), "list.detail_link", "invalid CSS"),
        (board(list__pages="a.next"), "list.pages", "unknown key"),
        (board(fields__title=None), "fields.title", "missing selector"),
        (board(fields__titel="h1::text"), "fields.titel", "unknown key"),
        (board(fields__text={"xpath": "//div[@class='content'"}), "fields.text", "invalid XPath"),
        (board(fields__text={"css": "div", "xpath": "//div"}), "fields.text", "exactly one"),
        (board(fields__text={"xpath": "//div", "re": "(unclosed"}), "fields.text", "invalid regular"),
        (board(fields__text=["div"]), "fields.text", "CSS string or a mapping"),
        (board(fields__native_id=None), "fields.native_id", "id_pattern"),
        (board(fields__native_id=None, id_pattern=r"/detail/\d+"), "id_pattern", "capturing group"),
        (board(time_format="%Y-%m-%d %Q"), "time_format", "not a usable strptime format"),
        (board(time_format=[]), "time_format", "strptime format"),
        (board(obey_robots="sometimes"), "obey_robots", "true or false"),
        (board(polite="slowly"), "polite", "true or false"),
        (board(max_pages=0), "max_pages", ">= 1"),
        (board(replied_labels="已回复"), "replied_labels", "list"),
    ],
)
def test_a_wrong_field_is_reported_with_its_board_and_field(tmp_path, entry, field, reason):
    path = write(tmp_path, [entry])
    with pytest.raises(SourceConfigError, match=reason) as caught:
        load_sources(path)
    error = caught.value
    assert (error.board, error.field) == (entry.get("name", "#1"), field)
    assert str(error).startswith(f"{path}: board {error.board!r}, field {field!r}: ")


def test_two_boards_with_one_name_are_rejected(tmp_path):
    with pytest.raises(SourceConfigError, match="another board has this name") as caught:
        load_sources(write(tmp_path, [board(), board(display_name="另一个")]))
    assert (caught.value.board, caught.value.field) == ("city-board", "name")


def test_a_board_without_a_name_is_called_by_its_position(tmp_path):
    with pytest.raises(SourceConfigError) as caught:
        load_sources(write(tmp_path, [board(), board(name=None)]))
    assert (caught.value.board, caught.value.field) == ("#2", "name")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("- name: [unclosed", "not valid YAML"),
        ("name: city-board\n", "non-empty YAML list"),
        ("[]\n", "non-empty YAML list"),
        ("- just a string\n", "a mapping"),
    ],
)
def test_a_file_that_is_not_a_list_of_boards_is_rejected(tmp_path, content, reason):
    path = tmp_path / "sources.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceConfigError, match=reason):
        load_sources(path)


def test_a_missing_file_is_a_configuration_error(tmp_path):
    with pytest.raises(SourceConfigError, match="cannot read the file") as caught:
        load_sources(tmp_path / "absent.yaml")
    assert caught.value.board is None
