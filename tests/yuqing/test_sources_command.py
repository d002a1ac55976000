"""``yuqing sources try`` and ``yuqing sources list`` end to end against the demo site, and the two
functions the 系统管理 page calls (``describe_sources``, ``try_source``)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from core.china_time import CHINA_TZ
from crawlers.alerts import pause_source
from crawlers.catalog import describe_sources, load_all
from crawlers.trial import format_trial, try_source
from demo_site import serve, write_demo_sources
from tests.crawlers.crawling import crawl_in_child
from yuqing.settings import Settings, settings_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("sources-command")
    with serve(now=datetime.now(CHINA_TZ)) as site:
        path = write_demo_sources(
            root / "sources.yaml", site.url, feeds=True, json_board=True, news=True, inbox=root / "inbox"
        )
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        [board] = [e for e in entries if e.get("kind") == "board-json"]
        bad = {**board, "name": "bad-wz", "display_name": "坏数据问政平台"}
        bad["list"] = {**board["list"], "url": f"{site.url}/wenzheng-bad/api/letters"}
        bad["detail"] = {**board["detail"], "url": f"{site.url}/wenzheng-bad/api/letter?id={{id}}"}
        path.write_text(yaml.safe_dump([*entries, bad], allow_unicode=True), encoding="utf-8")
        yield Settings(home=root / "home", sources_file=path)


def yuqing(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("YUQING_")}
    env.update(settings_env(settings))
    return subprocess.run(
        [sys.executable, "-m", "yuqing", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_try_prints_every_field_of_a_json_board_with_its_path_and_publishes_nothing(demo):
    done = yuqing(demo, "sources", "try", "demo-wenzheng")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("试抓数据源 demo-wenzheng（JSON 留言板）：http://127.0.0.1:")
    assert "只抓取、不发布：抓取 6 个页面" in out  # one list page of five, five details
    assert "】可以发布，帖子编号 board:demo-wenzheng:WZ2024060103" in out
    assert "  编号　　  WZ2024060103  ← 列表 letterId" in out
    assert "← 详情 title" in out and "← 详情 createTime" in out and "（读作 20" in out
    assert "  答复单位  ✗ 未找到（查找位置：详情 replies[0].orgName；列表 replies[0].orgName）" in out
    assert "  答复单位  云溪市教育局  ← 详情 replies[0].orgName" in out
    assert "138****8000" in out and "13800138000" not in out and "郑**" in out  # shown as published
    assert "合计：5 条可以发布，0 条无法发布，0 个页面或记录失败。" in out
    assert not demo.broker_path.exists() and not (demo.crawl_state_path / "published.sqlite").exists()


def test_try_shows_where_a_news_articles_fields_came_from(demo):
    done = yuqing(demo, "sources", "try", "demo-yunxi-daily", "--full")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "试抓数据源 demo-yunxi-daily（新闻）" in out and "帖子编号 news:demo-yunxi-daily:1001" in out
    assert "← 订阅源 pubDate" in out and "← 订阅源 creator" in out and "← 订阅源 频道标题" in out
    assert "← 正文提取器 trafilatura 正文" in out and "…（共" not in out  # --full: whole texts
    portal = yuqing(demo, "sources", "try", "demo-nanwan-news").stdout
    assert "← 页面 css span.pubtime::text" in portal and "← 正文提取器 trafilatura 网站名" in portal


def test_try_names_each_record_the_crawl_would_dead_letter(demo):
    out = yuqing(demo, "sources", "try", "bad-wz").stdout
    assert "可以发布，帖子编号 board:bad-wz:WB001" in out
    assert "页面或记录失败（将进入死信）：记录无法读取：不是对象（第 2 条）" in out
    assert "原因（原文）：bad record: missing id at letterId (record 3)" in out
    assert "记录无法读取：无法解析的发布时间" in out and "不是有效的 JSON" in out
    assert "合计：1 条可以发布，0 条无法发布，5 个页面或记录失败。" in out


def test_try_of_an_unknown_source_says_so(demo):
    done = yuqing(demo, "sources", "try", "no-such-source")
    assert done.returncode == 2 and "没有名为“no-such-source”的数据源" in done.stderr


def test_list_and_describe_sources_show_every_kind_with_its_latest_crawl_and_pause(demo):
    names = [s.name for s in load_all(demo.sources_file)]
    crawl_in_child(demo, only=["demo-wenzheng", "demo-yunxi-daily"])
    now = datetime.now(CHINA_TZ)
    pause_source(
        demo.crawl_state_path, "demo-nanwan-news", reason="login-or-captcha", url="http://x/login", now=now
    )
    infos = {info.name: info for info in describe_sources(demo)}
    assert list(infos) == names
    assert {info.kind for info in infos.values()} == {
        "board", "board-json", "news", "hotline-api", "hotline-inbox", "weibo",
    }  # fmt: skip
    board = infos["demo-wenzheng"]
    assert (board.kind_label, board.items, board.last_published, board.last_result) == (
        "JSON 留言板",
        7,
        7,
        "finished",
    )
    assert (
        board.host.startswith("127.0.0.1:") and board.schedule == "每轮（60 秒）" and board.status == "正常"
    )
    assert infos["demo-yunxi-daily"].items == 2 and infos["demo-liuyan"].status == "从未抓取"
    paused = infos["demo-nanwan-news"]
    assert paused.paused and paused.status.startswith("已暂停至") and "登录或验证码" in paused.status
    assert infos["demo-12345-files"].host == "本地目录"
    later = {info.name: info for info in describe_sources(demo, now=now + timedelta(hours=2))}
    assert later["demo-nanwan-news"].paused is False  # the pause ran out
    assert board.as_row()["累计帖子"] == 7 and board.as_row()["类型"] == "JSON 留言板"
    listed = yuqing(demo, "sources", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"共 {len(names)} 个数据源" in listed.stdout and "类型：JSON 留言板" in listed.stdout
    assert "发布 7 条" in listed.stdout and "累计帖子：7" in listed.stdout and "已暂停至" in listed.stdout


def test_try_source_is_callable_from_a_page(demo):
    result = try_source(demo, "demo-liuyan", limit=3, polite=False)
    assert result.kind == "board" and len(result.items) == 3 and result.publishable == 3
    row = result.rows()[0]
    assert row["结果"] == "可以发布" and row["帖子编号"].startswith("board:demo-liuyan:") and "标题" in row
    assert "已达到条数上限 3" in format_trial(result)
    assert Path(demo.sources_file).exists()
