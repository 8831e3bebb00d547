"""The PostgreSQL store's failures on a real server: out of reach, without the right to
create its schema, its connection lost for a moment or for good, killed mid-upsert."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from aggregator.dedup.fingerprints import BANDS
from aggregator.store import StoreUnavailable, open_store
from tests.support.factory import make_article, with_dedup_keys
from tests.support.pgserver import PgServer


def test_an_unreachable_server_is_one_clear_error(pg_server: PgServer) -> None:
    url = f"postgresql://news:s3cr3t@127.0.0.1:{pg_server.port}/no_such_database"
    with pytest.raises(StoreUnavailable) as caught:
        open_store(url).open()
    message = str(caught.value)
    assert "postgresql://news:***@127.0.0.1" in message and "no_such_database" in message
    assert "s3cr3t" not in message and "\n" not in message


def test_a_role_that_cannot_create_the_schema_is_one_clear_error(
    pg_url: str, pg_server: PgServer
) -> None:
    pg_server.admin("DROP ROLE IF EXISTS reader; CREATE ROLE reader LOGIN")
    url = pg_url.replace("//postgres@", "//reader:pw-9@")
    with pytest.raises(StoreUnavailable) as caught:
        open_store(url).open()
    message = str(caught.value)
    assert message.startswith("cannot set up the schema of the store postgresql://reader:***@")
    assert "permission denied" in message and "pw-9" not in message


def test_a_lost_connection_is_opened_again(pg_url: str, pg_server: PgServer) -> None:
    with open_store(pg_url) as store:
        store.upsert(make_article("https://x.vn/a-1.html"))
        pid = store.execute("SELECT pg_backend_pid()").fetchone()[0]
        pg_server.admin(f"SELECT pg_terminate_backend({pid})")
        # a read, then a write transaction, each on a new connection
        assert store.count() == 1
        pg_server.admin(
            f"SELECT pg_terminate_backend({store.execute('SELECT pg_backend_pid()').fetchone()[0]})"
        )
        assert store.upsert(make_article("https://x.vn/a-2.html")) == "inserted"
        assert store.count() == 2


def test_a_store_lost_for_good_stops_after_the_bound(pg_url: str, pg_server: PgServer) -> None:
    with open_store(pg_url, retry_seconds=1.0) as store:
        store.upsert(make_article("https://x.vn/a-1.html"))
        pg_server.drop_database(pg_url.rsplit("/", 1)[1])  # its connection goes too
        with pytest.raises(StoreUnavailable, match="lost the store postgresql://"):
            store.upsert(make_article("https://x.vn/a-2.html"))


def test_nothing_is_half_written_when_the_connection_drops(
    pg_url: str, pg_server: PgServer
) -> None:
    """Killed inside the upsert's transaction: the retry writes the whole article once."""
    with open_store(pg_url) as store:
        calls = 0
        original = store._record_version

        def record_then_die(
            article_id: str, warc: object, stored: object = None, **kwargs: Any
        ) -> None:
            nonlocal calls
            calls += 1
            original(article_id, warc, stored, **kwargs)  # type: ignore[arg-type]
            if calls == 1:  # the article row is written, the transaction not committed
                pid = store.execute("SELECT pg_backend_pid()").fetchone()[0]
                with psycopg.connect(pg_url, autocommit=True) as other:
                    other.execute("SELECT pg_terminate_backend(%s)", (pid,))

        store._record_version = record_then_die  # type: ignore[method-assign]
        text = " ".join(f"Câu {i} kể chuyện làng nghề." for i in range(30))
        assert store.upsert(
            with_dedup_keys(make_article("https://x.vn/a-1.html", body_text=text))
        ) == ("inserted")
        assert calls == 2
        assert store.execute("SELECT COUNT(*) FROM article_versions").fetchone()[0] == 1
        assert store.execute("SELECT COUNT(*) FROM fingerprints").fetchone()[0] == 1
        assert store.execute("SELECT COUNT(*) FROM lsh_bands").fetchone()[0] == BANDS
