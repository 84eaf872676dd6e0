"""UTC time: one clock for the service and one way to write it (api.md: ISO 8601 with Z)."""
import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every stored datetime is UTC."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def isoformat_z(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    # isoformat rather than strftime: a third of the time (every list entry writes two), and four-digit years always.
    return as_utc(value).isoformat(timespec="seconds")[:19] + "Z"
