"""What only the Elasticsearch archive does: monthly indices, its template, and its failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from elasticsearch import Elasticsearch

from archive.base import SearchQuery
from archive.elastic import ElasticArchive
from archive.errors import ArchiveError, ArchiveUnavailable, DocumentRejected
from tests.archive.samples import dataset
from tests.servers import free_port


def where_stored(es_url: str, alias: str) -> dict[str, list[str]]:
    """Post id -> the concrete indices holding it."""
    with Elasticsearch(es_url, request_timeout=10) as client:
        response = client.search(index=alias, query={"match_all": {}}, size=100, source=False)
    found: dict[str, list[str]] = {}
    for hit in response["hits"]["hits"]:
        found.setdefault(hit["_id"], []).append(hit["_index"])
    return found


@pytest.mark.servers
def test_posts_go_to_the_month_of_their_china_time_behind_the_alias(
    elastic_archive: ElasticArchive, es_url: str, es_index: str
) -> None:
    posts = dataset()
    elastic_archive.index(list(posts.values()))
    elastic_archive.refresh()
    stored = where_stored(es_url, es_index)
    assert stored[posts["bikes_board"]["id"]] == [f"{es_index}-2024.05"]  # 23:59:59 on 31 May
    assert stored[posts["noise_news"]["id"]] == [f"{es_index}-2024.06"]  # 16:30 UTC on 31 May
    assert stored[posts["housing_board"]["id"]] == [f"{es_index}-2024.04"]
    with Elasticsearch(es_url, request_timeout=10) as client:
        behind_alias = client.indices.get_alias(name=es_index)
    assert sorted(behind_alias) == [f"{es_index}-2024.{month}" for month in ("04", "05", "06")]


@pytest.mark.servers
def test_a_moved_post_leaves_no_copy_in_its_old_month(
    elastic_archive: ElasticArchive, es_url: str, es_index: str
) -> None:
    post = dataset()["housing_board"]
    elastic_archive.index([post])
    # The old copy is found by a search, which sees refreshed documents only (see archive.elastic).
    elastic_archive.refresh()
    post["published_at"] = "2024-07-02T09:00:00+08:00"
    elastic_archive.index([post])
    elastic_archive.refresh()
    assert where_stored(es_url, es_index) == {post["id"]: [f"{es_index}-2024.07"]}


@pytest.mark.servers
def test_the_template_maps_tokens_for_exact_words_and_bigrams_for_recall(
    elastic_archive: ElasticArchive, es_url: str, es_index: str
) -> None:
    elastic_archive.index([dataset()["parking_board"]])
    with Elasticsearch(es_url, request_timeout=10) as client:
        mapping = client.indices.get_mapping(index=f"{es_index}-2024.05")[f"{es_index}-2024.05"]["mappings"]
    properties = mapping["properties"]
    assert properties["title_tokens"] == {"type": "text", "analyzer": "whitespace"}
    assert properties["text"] == {"type": "text", "analyzer": "cjk"}
    assert properties["published_at"]["type"] == "date"
    assert properties["risk"]["properties"]["score"]["type"] == "integer"
    assert properties["sentiment"]["properties"]["label"] == {"type": "keyword"}
    assert properties["raw"]["enabled"] is False
    assert mapping["_source"] == {"excludes": ["title_tokens", "text_tokens"]}


@pytest.mark.servers
def test_a_mapping_error_names_the_post_and_keeps_the_rest(elastic_archive: ElasticArchive) -> None:
    posts = dataset()
    bad = posts["parking_weibo"]
    bad["author"] = {"name": {"first": "张"}}  # type: ignore[typeddict-item]
    with pytest.raises(DocumentRejected, match=r"weibo:城市观察:2001.*author\.name") as caught:
        elastic_archive.index([posts["parking_board"], bad])
    assert list(caught.value.rejected) == [bad["id"]]
    elastic_archive.refresh()
    # Unlike the embedded archive, Elasticsearch stored the good post of the batch.
    assert elastic_archive.count() == 1


@pytest.mark.servers
def test_the_alias_name_must_not_be_taken_by_an_index(es_url: str, es_index: str) -> None:
    with Elasticsearch(es_url, request_timeout=10) as client:
        client.indices.create(index=f"{es_index}-taken")
    archive = ElasticArchive(es_url, index=f"{es_index}-taken", max_retries=0)
    with pytest.raises(ArchiveError, match="needs that name for its read alias"):
        archive.ensure()
    archive.close()


@pytest.mark.parametrize(
    "call",
    [
        lambda archive: archive.index(list(dataset().values())),
        lambda archive: archive.search(SearchQuery(text="停车")),
        lambda archive: archive.count(),
        lambda archive: archive.ensure(),
    ],
    ids=["index", "search", "count", "ensure"],
)
def test_an_unreachable_cluster_is_unavailable_at_once(call: Callable[[ElasticArchive], object]) -> None:
    archive = ElasticArchive(
        f"http://127.0.0.1:{free_port()}", index="yq-nowhere", request_timeout=2, max_retries=0
    )
    started = time.monotonic()
    with pytest.raises(ArchiveUnavailable, match="unreachable"):
        call(archive)
    assert time.monotonic() - started < 5
    archive.close()


class _FakeCluster(BaseHTTPRequestHandler):
    """Answers like Elasticsearch, except that bulk writes fail as the test says.

    ``bulk_status`` fails a whole bulk request; ``item_failures`` maps post ids to the status and
    reason of their item in an otherwise accepted bulk request.
    """

    bulk_status: ClassVar[int] = 200
    item_failures: ClassVar[dict[str, tuple[int, str]]] = {}

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self) -> None:
        self._reply(404, {})  # no index or alias exists yet

    def do_PUT(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        lines = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode().splitlines()
        if "_bulk" in self.path:
            self._bulk([json.loads(line) for line in lines])
        elif "_search" in self.path:
            self._reply(200, {"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}})
        else:  # templates and index creation
            self._reply(200, {"acknowledged": True})

    def _bulk(self, lines: list[dict[str, Any]]) -> None:
        if self.bulk_status != 200:
            self._reply(self.bulk_status, {"error": {"type": "es_rejected_execution_exception"}, "status": 0})
            return
        items = []
        for line in lines:
            if "index" not in line:
                continue  # a document body
            post_id = line["index"]["_id"]
            status, reason = self.item_failures.get(post_id, (201, ""))
            item: dict[str, Any] = {"_id": post_id, "status": status}
            if reason:
                item["error"] = {"type": "document_parsing_exception", "reason": reason}
            items.append({"index": item})
        self._reply(200, {"errors": True, "items": items})

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output clean


@pytest.fixture
def fake_cluster() -> Iterator[tuple[str, type[_FakeCluster]]]:
    """A loopback server speaking just enough Elasticsearch to fail writes on demand."""
    handler = type("Handler", (_FakeCluster,), {"item_failures": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("status", [429, 503])
def test_a_busy_or_failing_cluster_is_unavailable(
    fake_cluster: tuple[str, type[_FakeCluster]], status: int
) -> None:
    url, handler = fake_cluster
    handler.bulk_status = status
    archive = ElasticArchive(url, index="yq-fake", max_retries=0)
    with pytest.raises(ArchiveUnavailable, match=str(status)):
        archive.index([dataset()["parking_board"]])
    archive.close()


def test_a_post_refused_for_now_makes_the_batch_unavailable(
    fake_cluster: tuple[str, type[_FakeCluster]],
) -> None:
    url, handler = fake_cluster
    posts = dataset()
    handler.item_failures = {
        posts["parking_board"]["id"]: (429, "queue full"),
        posts["bbq_weibo"]["id"]: (400, "bad value"),
    }
    archive = ElasticArchive(url, index="yq-fake", max_retries=0)
    # A retry of the whole batch is safe and needed; the refused post is reported on a later try.
    with pytest.raises(ArchiveUnavailable, match="queue full"):
        archive.index([posts["parking_board"], posts["bbq_weibo"], posts["thanks_weibo"]])
    handler.item_failures = {posts["bbq_weibo"]["id"]: (400, "bad value")}
    with pytest.raises(DocumentRejected, match=r"weibo:城市观察:2003.*bad value"):
        archive.index([posts["parking_board"], posts["bbq_weibo"], posts["thanks_weibo"]])
    archive.close()


@pytest.mark.servers
def test_two_archives_whose_names_share_a_prefix_coexist(es_url: str, es_index: str) -> None:
    first = ElasticArchive(es_url, index=es_index, max_retries=0, replicas=0)
    second = ElasticArchive(es_url, index=f"{es_index}-test", max_retries=0, replicas=0)
    posts = dataset()
    first.index([posts["parking_board"]])
    second.index([posts["thanks_weibo"], posts["bbq_weibo"]])
    first.refresh()
    second.refresh()
    assert (first.count(), second.count()) == (1, 2)
    first.close()
    second.close()
    with Elasticsearch(es_url, request_timeout=10) as client:
        client.indices.delete_index_template(name=f"{es_index}-test")
