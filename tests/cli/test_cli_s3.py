"""The installed command against MiniStack: s3:// URLs, endpoint and credentials from the
standard AWS environment variables (S3-033)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import Result, run_cli
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, S3Server

pytestmark = pytest.mark.s3


def _run(server: S3Server, cwd: Path, *args: str) -> Result:
    env = {
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
    }
    return run_cli(*args, cwd=cwd, env=env)


def test_copy_list_cat_move_remove_over_s3_urls(ministack: S3Server, tmp_path: Path) -> None:
    bucket = ministack.new_bucket("cli")
    for rel, body in {"src/a.csv": b"a,b\n1,2\n", "src/sub/b.csv": b"b\n" * 1000}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(body)
    url = f"s3://{bucket}/up"

    copied = _run(ministack, tmp_path, "cp", "-r", "--json", "src/", url)
    assert copied.code == 0, copied.err
    assert len(copied.json()["copied"]) == 2

    listing = _run(ministack, tmp_path, "ls", "-R", "--json", url)
    assert listing.code == 0, listing.err
    assert sorted(r["path"].rsplit("/up/", 1)[1] for r in listing.json()) == ["a.csv", "sub/b.csv"]

    moved = _run(ministack, tmp_path, "mv", f"{url}/a.csv", f"{url}/moved/a.csv")
    assert moved.code == 0, moved.err
    assert _run(ministack, tmp_path, "cat", f"{url}/moved/a.csv").out == "a,b\n1,2\n"

    removed = _run(ministack, tmp_path, "rm", "-r", url)
    assert removed.code == 0, removed.err
    keys = ministack.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    assert keys == 0


def test_mb_creates_a_bucket_once_and_a_missing_one_is_named(
    ministack: S3Server, tmp_path: Path
) -> None:
    name = f"mb-{tmp_path.name[-12:].lower().replace('_', '-')}".rstrip("-")
    missing = _run(ministack, tmp_path, "ls", f"s3://{name}/")
    assert missing.code == 1 and "NoSuchBucket" in missing.err, missing.err
    first = _run(ministack, tmp_path, "mb", f"s3://{name}")
    assert (first.code, first.out) == (0, f"created s3://{name}/\n"), first.err
    again = _run(ministack, tmp_path, "mb", "--json", f"s3://{name}")
    assert again.json() == [{"address": f"s3://{name}/", "created": False}]
