"""The fixture servers start and answer."""

from __future__ import annotations

import json
import urllib.request

from tests.servers import ServerProcess


def test_noida_serves_the_elasticsearch_8_api(noida_server: ServerProcess) -> None:
    with urllib.request.urlopen(str(noida_server.extra["es_url"]), timeout=5) as response:
        info = json.load(response)
    assert info["version"]["number"].startswith("8.")


def test_tansu_accepts_kafka_clients(tansu_server: ServerProcess) -> None:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=[str(tansu_server.extra["bootstrap"])])
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()
