"""Signed public links: tampering, wrong purpose and expiry are refused."""

from datetime import UTC, datetime, timedelta

import pytest

from q2c.core import clock
from q2c.platform.links import LinkError, make_token, read_token

T0 = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def at_t0():
    with clock.use(clock.SimulationClock(T0)) as c:
        yield c


def test_a_link_opens_its_object_until_it_expires(at_t0):
    token = make_token("quote.accept", 42, T0 + timedelta(days=30))
    assert read_token(token, "quote.accept").object_id == "42"
    at_t0.advance(timedelta(days=30))
    with pytest.raises(LinkError) as err:
        read_token(token, "quote.accept")
    assert err.value.code == "links.expired"


def test_a_tampered_link_is_refused(at_t0):
    token = make_token("quote.accept", 42, T0 + timedelta(days=30))
    # Change the object id inside the signed payload: the signature no longer matches.
    forged = token.replace(
        token.split(":")[0], make_token("quote.accept", 43, T0 + timedelta(days=30)).split(":")[0]
    )
    for bad in (forged, token[:-1] + ("A" if token[-1] != "A" else "B"), "", "nonsense", token + "x"):
        with pytest.raises(LinkError) as err:
            read_token(bad, "quote.accept")
        assert err.value.code == "links.tampered"


def test_a_link_for_another_purpose_does_not_open(at_t0):
    token = make_token("portal", 7, T0 + timedelta(days=30))
    with pytest.raises(LinkError):
        read_token(token, "quote.accept")
