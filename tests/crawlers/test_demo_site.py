"""The demo 留言板: its content, its pages over real HTTP, and the real-data board."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from core.china_time import CHINA_TZ
from demo_site import serve
from demo_site.content import demo_messages
from demo_site.server import DemoServer
from tests.conftest import REPO, SHARED_DATA, shared_data

NOW = datetime(2024, 6, 3, 9, 30, tzinfo=CHINA_TZ)


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8")


@pytest.fixture(scope="module")
def site():
    with serve(now=NOW) as running:
        yield running


def test_our_messages_are_recent_about_half_answered_and_answered_after_posting():
    messages = demo_messages(NOW)
    naive_now = NOW.replace(tzinfo=None)
    assert len(messages) == 40
    assert len({m.id for m in messages}) == 40
    assert sum(m.reply is not None for m in messages) == 20
    assert max(m.posted_at for m in messages) == naive_now - timedelta(minutes=12)
    assert min(m.posted_at for m in messages) > naive_now - timedelta(days=7)
    for message in messages:
        if message.reply is not None:
            assert message.posted_at < message.reply.replied_at <= naive_now


def test_pages_are_utf8_html_and_robots_txt_allows_everything(site):
    status, headers, body = get(site.url + "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in body and "网上留言" in body

    status, headers, body = get(site.url + "/robots.txt")
    assert (status, body) == (200, "User-agent: *\nDisallow: /private/\nAllow: /\n")


def test_the_list_is_paginated_newest_first(site):
    _, _, first = get(site.url + "/liuyan/list.html")
    assert re.findall(r'class="msg-no">(\d+)<', first) == [str(n) for n in range(10040, 10025, -1)]
    assert '<a class="next" href="/liuyan/list.html?page=2">下一页</a>' in first

    _, _, last = get(site.url + "/liuyan/list.html?page=3")
    assert len(re.findall('class="msg-row"', last)) == 10
    assert 'class="next"' not in last and "第 3/3 页" in last

    assert get(site.url + "/liuyan/list.html?page=4")[0] == 404
    assert get(site.url + "/liuyan/list.html?page=abc")[0] == 404


def test_detail_pages_escape_what_citizens_wrote(site):
    status, _, body = get(site.url + "/liuyan/detail/10005.html")
    assert status == 200
    assert '<h1 class="msg-title">小区“停车费”上涨 &amp; 物业不公示账目</h1>' in body
    assert '<td class="reply-unit">东湖区住房和城乡建设局</td>' in body

    _, _, body = get(site.url + "/liuyan/detail/10010.html")
    assert "水压&lt;0.1兆帕" in body and "水压<0.1" not in body

    _, _, pending = get(site.url + "/liuyan/detail/10040.html")
    assert '<td class="msg-status">未回复</td>' in pending and "reply-content" not in pending


def test_unknown_paths_are_404_pages_and_head_has_no_body(site):
    status, _, body = get(site.url + "/liuyan/detail/99999.html")
    assert status == 404 and "页面不存在" in body
    assert get(site.url + "/real/list.html")[0] == 404  # no data folder given

    status, headers, body = get(site.url + "/liuyan/list.html", method="HEAD")
    assert status == 200 and int(headers["Content-Length"]) > 0 and body == ""


def test_the_server_keeps_a_real_backlog_and_serves_bursts(site):
    assert DemoServer.request_queue_size == 128
    urls = [f"{site.url}/liuyan/detail/{10001 + n % 40}.html" for n in range(120)]
    with ThreadPoolExecutor(max_workers=48) as pool:
        statuses = list(pool.map(lambda url: get(url)[0], urls))
    assert statuses == [200] * 120


def test_a_data_folder_without_board_data_serves_the_demo_board_only(tmp_path):
    with serve(data_dir=tmp_path) as running:
        assert list(running.boards) == ["liuyan"]


def test_the_real_data_board_serves_at_most_the_limit():
    path = shared_data("boards/teddy2020_messages_with_replies.csv")
    with serve(data_dir=SHARED_DATA, real_limit=5) as running:
        board = running.boards["real"]
        assert len(board.messages) == 5
        first = board.messages[-1]  # the oldest of the five
        status, _, body = get(f"{running.url}/real/detail/{first.id}.html")
    assert status == 200 and path.is_file()
    assert f'<td class="msg-no">{first.id}</td>' in body
    assert "2020年泰迪杯" in body


def test_the_command_serves_in_the_foreground_until_interrupted():
    process = subprocess.Popen(
        [sys.executable, "-m", "demo_site", "--port", "0"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        # A test run started in the background of a non-interactive shell ignores SIGINT, and an
        # ignored signal is inherited: give the command the terminal's default, as a person has.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url is not None, line
        assert get(url.group(0) + "/robots.txt")[0] == 200
        # Interrupt once the command says it is serving, as a person at the terminal would.
        while "已启动" not in line:
            line = process.stderr.readline()
            assert line, "the command ended before saying it was serving"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        if process.stderr is not None:
            process.stderr.close()
