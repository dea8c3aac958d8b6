"""How `close_session` ends a request's PostgreSQL transaction, by what the driver noted the
transaction sent (models/database.py): only a transaction of nothing but SELECTs is committed,
whatever earlier transactions of the same connection did; the rest are rolled back."""
from __future__ import annotations

import pytest
from sqlalchemy import event, insert, select, text, update

from models import Agency, close_session, make_engine, make_session_factory

pytestmark = pytest.mark.postgres


@pytest.fixture
def ended(pg_database_url):
    """(session factory on one pooled connection, list of how each transaction ended)."""
    engine = make_engine(pg_database_url, pool_size=1, max_overflow=0)
    endings: list[str] = []
    event.listen(engine, "commit", lambda _conn: endings.append("commit"))
    event.listen(engine, "rollback", lambda _conn: endings.append("rollback"))
    yield make_session_factory(engine), endings
    engine.dispose()


def test_a_transaction_of_selects_is_committed(ended):
    factory, endings = ended
    session = factory()
    assert session.scalar(select(Agency.name).where(Agency.code == "samr"))
    session.execute(text("SELECT 1"))
    close_session(session)
    assert endings[0] == "commit"


@pytest.mark.parametrize("write", [
    lambda session: session.execute(update(Agency).where(Agency.code == "samr").values(name="改")),
    # One statement for many rows: the driver's executemany, or a multi-row INSERT.
    lambda session: session.execute(insert(Agency), [{"code": f"x{i}", "name": "x"} for i in range(3)]),
    lambda session: session.execute(text("WITH gone AS (DELETE FROM agency WHERE code = 'none') SELECT 1")),
], ids=["update", "insert-many", "writable-cte"])
def test_a_transaction_that_wrote_is_rolled_back(ended, write):
    factory, endings = ended
    session = factory()
    session.scalar(select(Agency.id).limit(1))
    write(session)
    session.scalar(select(Agency.id).limit(1))  # reads after the write change nothing
    close_session(session)
    assert "commit" not in endings
    session = factory()
    assert session.scalar(select(Agency.name).where(Agency.code == "samr")) != "改"
    assert session.scalar(select(Agency.id).where(Agency.code == "x0")) is None
    close_session(session)


def test_what_an_earlier_transaction_wrote_does_not_count(ended):
    factory, endings = ended
    session = factory()
    session.execute(update(Agency).where(Agency.code == "samr").values(short_name="东市监"))
    session.commit()  # a service committed its write...
    endings.clear()
    session.scalar(select(Agency.name).where(Agency.code == "samr"))  # ...and the view read after
    close_session(session)
    assert endings[0] == "commit"
    # And the next request's read-only transaction on the same connection likewise.
    session = factory()
    session.scalar(select(Agency.short_name).where(Agency.code == "samr"))
    endings.clear()
    close_session(session)
    assert endings == ["commit"]


def test_a_failed_request_is_rolled_back_even_if_it_only_read(ended):
    factory, endings = ended
    session = factory()
    session.scalar(select(Agency.id).limit(1))
    close_session(session, failed=True)
    assert "commit" not in endings
