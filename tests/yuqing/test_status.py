"""``yuqing status`` never shows the password compose puts in the archive's URL."""

from __future__ import annotations

from yuqing.status import without_password


def test_the_password_of_a_url_is_hidden_and_the_rest_kept() -> None:
    assert (
        without_password("http://elastic:s3-cr_et@elasticsearch:9200")
        == "http://elastic:***@elasticsearch:9200"
    )
    assert without_password("http://elasticsearch:9200") == "http://elasticsearch:9200"
    assert without_password("embedded") == "embedded"
