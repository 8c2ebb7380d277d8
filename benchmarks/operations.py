"""The workload below the big transfers: small files, listing, glob, folders, seekable reads."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.common import GeneratingStream, KiB, MiB
from benchmarks.impls import Impl, Sdk
from benchmarks.measure import expect, interleave, seed
from benchmarks.targets import Target


@dataclass(frozen=True)
class Sizes:
    small_reps: int
    list_files: int
    list_reps: int
    glob_matches: int
    glob_reps: int
    delete_files: int
    delete_reps: int
    move_reps: int
    seek_size: int
    seek_reads: int
    seq_reps: int
    random_reps: int


FULL = Sizes(200, 10_000, 3, 200, 3, 2_000, 3, 30, 64 * MiB, 1_000, 5, 2)
QUICK = Sizes(15, 1_000, 3, 20, 3, 200, 2, 5, 16 * MiB, 100, 2, 1)
SMALL = b"s" * KiB


Factory = Callable[[str], list[Impl]]


def run_all(
    target: Target,
    make: Factory,
    sizes: Sizes,
    log: Callable[[str], None] = print,
    only: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Each group in a fresh container, so one group's data never slows another's."""
    out: list[dict[str, Any]] = []
    for group in (small_files, listing, folders, seekable):
        if only and group.__name__ not in only:
            continue
        impls = make(target.new_container())
        raw = next(i for i in impls if isinstance(i, Sdk)).container
        try:
            out += group(target, impls, raw, sizes, log)
        finally:
            for impl in impls:
                impl.close()
            # Azurite slows down with every blob it holds (a 256-blob batch delete took over
            # 60 s with the listing group's 20,000 blobs still there, ~2 s without them).
            target.delete_container(raw.container_name)
    return out


def small_files(
    target: Target, impls: list[Impl], raw: Any, sizes: Sizes, log: Any
) -> list[dict[str, Any]]:
    n = sizes.small_reps
    raw.get_blob_client("small/data.bin").upload_blob(SMALL, overwrite=True)

    def first_create(impl: Impl, rep: int) -> None:
        if rep:
            raw.get_blob_client(f"small/c-{impl.name}").delete_blob()

    params = {"bytes": len(SMALL)}
    return [
        interleave(
            "small",
            "write",
            impls,
            n,
            lambda i, r: i.write(f"small/w-{i.name}", SMALL, overwrite=True),
            params=params,
            log=log,
        ),
        interleave(
            "small",
            "write overwrite=False",
            impls,
            n,
            lambda i, r: i.write(f"small/c-{i.name}", SMALL, overwrite=False),
            setup=first_create,
            params=params,
            log=log,
        ),
        interleave(
            "small",
            "read",
            impls,
            n,
            lambda i, r: i.read("small/data.bin"),
            check=expect(SMALL),
            params=params,
            log=log,
        ),
        interleave(
            "small",
            "exists",
            impls,
            n,
            lambda i, r: i.exists("small/data.bin"),
            check=expect(True),
            log=log,
        ),
        interleave(
            "small",
            "get_file_info",
            impls,
            n,
            lambda i, r: i.info("small/data.bin"),
            check=expect(len(SMALL)),
            log=log,
        ),
    ]


def glob_tree(total: int, matches: int) -> list[str]:
    """*total* names below ``prefix/`` in 20 x 7 folders, *matches* of them ``.csv``."""
    every = total // matches
    return [
        f"prefix/d{j % 20:02d}/e{j % 7}/f{j:05d}.{'csv' if j % every == 0 else 'json'}"
        for j in range(total)
    ]


def listing(
    target: Target, impls: list[Impl], raw: Any, sizes: Sizes, log: Any
) -> list[dict[str, Any]]:
    """``list/flat``: files directly in one folder. ``prefix/``: a tree, listed recursively
    and globbed; with ``list/flat`` it makes the glob's tree (half of it under the prefix)."""
    n = sizes.list_files
    log(f"  seeding {2 * n} files")
    seed(raw, [f"list/flat/f{i:05d}.bin" for i in range(n)], b"0123456789abcdef")
    seed(raw, glob_tree(n, sizes.glob_matches), b"a,b\n1,2\n")
    total, matching = 2 * n, sizes.glob_matches
    return [
        interleave(
            "listing",
            f"list_files {n:,} flat",
            impls,
            sizes.list_reps,
            lambda i, r: i.list_flat("list/flat"),
            check=expect(n),
            params={"files": n},
            log=log,
        ),
        interleave(
            "listing",
            f"list_files {n:,} recursive",
            impls,
            sizes.list_reps,
            lambda i, r: i.list_recursive("prefix"),
            check=expect(n),
            params={"files": n},
            log=log,
        ),
        interleave(
            "listing",
            f"glob prefix/**/*.csv ({matching} of {total:,})",
            impls,
            sizes.glob_reps,
            lambda i, r: i.glob("prefix/**/*.csv"),
            check=expect(matching),
            params={"files": total, "matches": matching, "under_prefix": n},
            log=log,
        ),
    ]


def folders(
    target: Target, impls: list[Impl], raw: Any, sizes: Sizes, log: Any
) -> list[dict[str, Any]]:
    n = sizes.delete_files

    def fill(impl: Impl, rep: int) -> None:
        seed(raw, [f"del/{impl.name}-{rep}/d{i % 20:02d}/f{i:05d}" for i in range(n)], b"x")

    def gone(impl: Impl, value: Any) -> None:
        left = list(raw.list_blobs(name_starts_with=f"del/{impl.name}-"))
        if left:
            raise AssertionError(f"{impl.name}: {len(left)} blobs left after delete_folder")

    def place(impl: Impl, rep: int) -> None:
        raw.get_blob_client(f"mv/{impl.name}/src-{rep}").upload_blob(SMALL, overwrite=True)

    return [
        interleave(
            "folders",
            f"delete_folder {n:,} files",
            impls,
            sizes.delete_reps,
            lambda i, r: i.delete_folder(f"del/{i.name}-{r}"),
            setup=fill,
            check=gone,
            params={"files": n},
            log=log,
        ),
        interleave(
            "folders",
            "move 1 KiB file",
            impls,
            sizes.move_reps,
            lambda i, r: i.move(f"mv/{i.name}/src-{r}", f"mv/{i.name}/dst-{r}"),
            setup=place,
            params={"bytes": len(SMALL)},
            log=log,
        ),
    ]


def seekable(
    target: Target, impls: list[Impl], raw: Any, sizes: Sizes, log: Any
) -> list[dict[str, Any]]:
    size = sizes.seek_size
    raw.get_blob_client("seek/big.bin").upload_blob(
        GeneratingStream(size), length=size, overwrite=True, max_concurrency=4
    )
    rng = random.Random(4096)
    offsets = [rng.randrange(0, size - 4 * KiB) for _ in range(sizes.seek_reads)]
    label = f"{size // MiB} MiB"
    return [
        interleave(
            "seekable",
            f"read() sequential {label}",
            impls,
            sizes.seq_reps,
            lambda i, r: i.read_sequential("seek/big.bin", seekable=False),
            check=expect(size),
            params={"bytes": size},
            log=log,
        ),
        interleave(
            "seekable",
            f"read_seekable sequential {label}",
            impls,
            sizes.seq_reps,
            lambda i, r: i.read_sequential("seek/big.bin", seekable=True),
            check=expect(size),
            params={"bytes": size},
            log=log,
        ),
        interleave(
            "seekable",
            f"read_seekable {len(offsets):,} random 4 KiB reads",
            impls,
            sizes.random_reps,
            lambda i, r: i.read_random("seek/big.bin", offsets, 4 * KiB),
            check=expect(len(offsets) * 4 * KiB),
            params={"reads": len(offsets), "bytes": 4 * KiB},
            log=log,
        ),
    ]
