"""S3-019: the client parses S3's timestamps with the standard library (botocore's dateutil
parser took 60 % of a 10,000-key listing), with the same results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

from remote_store.backends.s3 import clients
from remote_store.backends.s3.clients import parse_timestamp
from remote_store.store import Store
from tests.s3.conftest import MakeBackend
from tests.s3_support import S3Server

pytestmark = pytest.mark.s3

VALUES = [
    "2026-12-04T18:00:00.000Z",  # a listing's LastModified
    "2026-12-04T18:00:00Z",
    "2026-12-04T18:00:00.123456+00:00",
    "2026-12-04T19:00:00+01:00",
    "Fri, 04 Dec 2026 18:00:00 GMT",  # a HEAD's Last-Modified header
    "2026-12-04T18:00:00",  # no zone: botocore's parser (UTC)
    "1733335200",  # epoch seconds: botocore's parser
    1733335200,
]


@pytest.mark.parametrize("value", VALUES)
def test_timestamps_parse_as_botocore_parses_them(value: object) -> None:
    parsed, expected = parse_timestamp(value), DEFAULT_TIMESTAMP_PARSER(value)
    assert parsed == expected
    assert (parsed.utcoffset() is None) == (expected.utcoffset() is None)


def test_the_backend_client_uses_it(
    make_backend: MakeBackend, ministack: S3Server, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing and a HEAD through the backend go through `parse_timestamp` and report the
    times the raw client reports."""
    seen: list[object] = []

    def watched(value: object) -> datetime:
        seen.append(value)
        return parse_timestamp(value)

    store = Store(make_backend())
    store.write("a.txt", b"a")
    monkeypatch.setattr(clients, "parse_timestamp", watched)
    listed = next(iter(store.list_files(""))).modified
    headed = store.get_file_info("a.txt").modified
    assert len(seen) == 2 and str(seen[0]).endswith("Z") and str(seen[1]).endswith("GMT")
    raw = ministack.client().head_object(Bucket=bucket, Key="a.txt")["LastModified"]
    assert headed == listed == raw.replace(microsecond=0)
    assert listed is not None and listed.tzinfo is not None and listed <= datetime.now(UTC)
