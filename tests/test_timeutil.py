"""Times as api.md writes them: ISO 8601 in UTC, to the second, with Z."""
import datetime as dt

from certify.timeutil import isoformat_z

SEOUL = dt.timezone(dt.timedelta(hours=9))


def test_a_time_is_written_in_utc_to_the_second_with_z():
    assert isoformat_z(dt.datetime(2026, 3, 10, 23, 5, 7, 999999, tzinfo=SEOUL)) == "2026-03-10T14:05:07Z"
    assert isoformat_z(dt.datetime(2026, 3, 10, 14, 5, 7, tzinfo=dt.timezone.utc)) == "2026-03-10T14:05:07Z"


def test_a_naive_time_is_utc_as_sqlite_hands_it_back_and_none_stays_none():
    assert isoformat_z(dt.datetime(2026, 3, 10, 14, 5, 7)) == "2026-03-10T14:05:07Z"
    assert isoformat_z(None) is None


def test_the_year_always_has_four_digits():
    assert isoformat_z(dt.datetime(987, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)) == "0987-01-02T03:04:05Z"
