"""Listing: list_files, list_folders, iter_children, glob (BC-019 to BC-022, ST-012, ST-014)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from remote_store.capabilities import Capability
from remote_store.errors import InvalidArgument
from remote_store.models import FileInfo, FolderEntry
from remote_store.store import Store
from remote_store.testing._base import SuiteBase

#: Depth 1 to 4, plus names that share a prefix with a folder, to catch prefix listings.
TREE = {
    "a.txt": b"a",
    "dir/b.txt": b"bb",
    "dir/sub/c.txt": b"ccc",
    "dir/sub/deep/d.bin": b"dddd",
    "dir2/e.txt": b"eeeee",
    "dir.txt": b"ffffff",
}

GLOB_TREE = {
    "a.txt": b"1",
    "b.txt": b"2",
    "ab.csv": b"3",
    "c.csv": b"4",
    "data/x.csv": b"5",
    "data/y.txt": b"6",
    "data/deep/z.csv": b"7",
    "folder.txt/inner.bin": b"8",
}

GLOB_CASES = {
    "*.txt": {"a.txt", "b.txt"},
    "**/*.csv": {"ab.csv", "c.csv", "data/x.csv", "data/deep/z.csv"},
    "data/**/*.csv": {"data/x.csv", "data/deep/z.csv"},
    "?.txt": {"a.txt", "b.txt"},
    "??.csv": {"ab.csv"},
    "[ab].txt": {"a.txt", "b.txt"},
    "[!a].txt": {"b.txt"},
    "[a-b]*.csv": {"ab.csv"},
    "data/*": {"data/x.csv", "data/y.txt"},
    "*/*.bin": {"folder.txt/inner.bin"},
    "**": set(GLOB_TREE),
    "nowhere/*.txt": set(),
}


def _paths(infos: object) -> list[str]:
    assert isinstance(infos, list)
    assert all(isinstance(info, FileInfo) for info in infos), infos
    return sorted(info.path for info in infos)


class ListingTests(SuiteBase):
    """Enumerating what is in a folder."""

    def test_list_files_lists_direct_files_only(self, store: Store) -> None:
        """BC-019: FileInfo with store-relative path, name and size; no folders."""
        if not self.gate(store, Capability.WRITE, Capability.LIST):
            return
        self.seed(store, TREE)
        assert _paths(list(store.list_files())) == ["a.txt", "dir.txt"]
        infos = list(store.list_files("dir"))
        assert _paths(infos) == ["dir/b.txt"]
        assert (infos[0].name, infos[0].size) == ("b.txt", 2)
        assert _paths(list(store.list_files("/dir/sub/"))) == ["dir/sub/c.txt"]

    def test_list_files_recursive_lists_every_depth_below_the_path(self, store: Store) -> None:
        """BC-019: everything below the path, nothing beside it, each file once."""
        if not self.gate(store, Capability.WRITE, Capability.RECURSIVE_LIST):
            return
        self.seed(store, TREE)
        infos = list(store.list_files("", recursive=True))
        assert _paths(infos) == sorted(TREE)
        assert {info.path: info.size for info in infos} == {k: len(v) for k, v in TREE.items()}
        below = _paths(list(store.list_files("dir", recursive=True)))
        assert below == ["dir/b.txt", "dir/sub/c.txt", "dir/sub/deep/d.bin"]

    @pytest.mark.parametrize(
        ("max_depth", "from_root", "from_dir"),
        [
            (1, {"a.txt", "dir.txt"}, {"b.txt"}),
            (2, {"a.txt", "dir.txt", "dir/b.txt", "dir2/e.txt"}, {"b.txt", "sub/c.txt"}),
            (3, set(TREE) - {"dir/sub/deep/d.bin"}, {"b.txt", "sub/c.txt", "sub/deep/d.bin"}),
            (None, set(TREE), {"b.txt", "sub/c.txt", "sub/deep/d.bin"}),
        ],
    )
    def test_list_files_max_depth(
        self, store: Store, max_depth: int | None, from_root: set[str], from_dir: set[str]
    ) -> None:
        """ST-012: max_depth counts levels below the listed folder; 1 is its own files."""
        if not self.gate(store, Capability.WRITE, Capability.RECURSIVE_LIST):
            return
        self.seed(store, TREE)
        listed = list(store.list_files("", recursive=True, max_depth=max_depth))
        assert set(_paths(listed)) == from_root
        nested = list(store.list_files("dir", recursive=True, max_depth=max_depth))
        assert set(_paths(nested)) == {f"dir/{path}" for path in from_dir}

    def test_list_files_pattern_filters_names(self, store: Store) -> None:
        """ST-012: the pattern applies to file names at every depth, not to folders."""
        if not self.gate(store, Capability.WRITE, Capability.RECURSIVE_LIST):
            return
        self.seed(store, TREE)
        txt = _paths(list(store.list_files("", recursive=True, pattern="*.txt")))
        assert txt == sorted(p for p in TREE if p.endswith(".txt"))
        assert _paths(list(store.list_files("", pattern="dir*"))) == ["dir.txt"]
        with pytest.raises(InvalidArgument):
            list(store.list_files("", pattern="dir/*.txt"))
        with pytest.raises(InvalidArgument):
            list(store.list_files("", recursive=True, max_depth=0))

    @pytest.mark.parametrize("path", ["missing", "missing/deeper", "a.txt", "a.txt/below"])
    def test_listing_a_missing_folder_yields_nothing(self, store: Store, path: str) -> None:
        """BC-019 to BC-021: a file, or a path below one, is not a folder either."""
        if not self.gate(store, Capability.WRITE, Capability.LIST):
            return
        store.write("a.txt", b"a")
        assert list(store.list_files(path)) == []
        assert list(store.list_folders(path)) == []
        assert list(store.iter_children(path)) == []
        if store.supports(Capability.RECURSIVE_LIST):
            assert list(store.list_files(path, recursive=True)) == []

    def test_listed_file_info_agrees_with_get_file_info(self, store: Store) -> None:
        """BC-019: size, and etag and modified when both report them."""
        if not self.gate(store, Capability.WRITE, Capability.LIST, Capability.METADATA):
            return
        self.seed(store, {"x.bin": b"12345", "y.bin": b""})
        for listed in store.list_files():
            info = store.get_file_info(listed.path)
            assert (listed.path, listed.name, listed.size) == (info.path, info.name, info.size)
            for name in ("etag", "modified"):
                if getattr(listed, name) is not None and getattr(info, name) is not None:
                    assert getattr(listed, name) == getattr(info, name), name

    def test_list_folders_names_immediate_subfolders_once(self, store: Store) -> None:
        """BC-020: folders implied by deeper files count; files do not."""
        if not self.gate(store, Capability.WRITE, Capability.LIST):
            return
        self.seed(store, TREE)
        top = list(store.list_folders())
        assert sorted(f.path for f in top) == ["dir", "dir2"]
        assert all(isinstance(f, FolderEntry) for f in top)
        assert [(f.path, f.name) for f in store.list_folders("dir")] == [("dir/sub", "sub")]
        assert list(store.list_folders("dir/sub/deep")) == []

    @pytest.mark.parametrize(
        ("max_depth", "from_root", "from_dir"),
        [
            (None, {"dir", "dir2"}, {"dir/sub"}),
            (1, {"dir", "dir2"}, {"dir/sub"}),
            (2, {"dir", "dir2", "dir/sub"}, {"dir/sub", "dir/sub/deep"}),
            (9, {"dir", "dir2", "dir/sub", "dir/sub/deep"}, {"dir/sub", "dir/sub/deep"}),
        ],
    )
    def test_list_folders_max_depth(
        self, store: Store, max_depth: int | None, from_root: set[str], from_dir: set[str]
    ) -> None:
        """ST-016: max_depth counts levels below the listed folder; 1 (the default) is its
        own subfolders; each folder is yielded once."""
        if not self.gate(store, Capability.WRITE, Capability.LIST):
            return
        if max_depth not in (None, 1) and not self.gate(store, Capability.RECURSIVE_LIST):
            return
        self.seed(store, TREE)
        listed = [f.path for f in store.list_folders("", max_depth=max_depth)]
        assert sorted(listed) == sorted(from_root)
        below = [f.path for f in store.list_folders("dir", max_depth=max_depth)]
        assert sorted(below) == sorted(from_dir)

    def test_list_folders_pattern_and_bad_depth(self, store: Store) -> None:
        """ST-016: pattern filters folder names (not the walk); max_depth below 1 is
        InvalidArgument."""
        if not self.gate(store, Capability.WRITE, Capability.LIST):
            return
        self.seed(store, TREE)
        assert [f.path for f in store.list_folders("", pattern="dir?")] == ["dir2"]
        if store.supports(Capability.RECURSIVE_LIST):
            deep = store.list_folders("", pattern="d*p", max_depth=3)
            assert [(f.path, f.name) for f in deep] == [("dir/sub/deep", "deep")]
        for bad in (0, -1):
            with pytest.raises(InvalidArgument):
                list(store.list_folders("", max_depth=bad))

    def test_iter_children_yields_files_and_folders_once(self, store: Store) -> None:
        """BC-021: FileInfo for files, FolderEntry for folders, one level only."""
        if not self.gate(store, Capability.WRITE, Capability.LIST):
            return
        self.seed(store, TREE)
        children = list(store.iter_children())
        files = sorted(c.path for c in children if isinstance(c, FileInfo))
        folders = sorted(c.path for c in children if isinstance(c, FolderEntry))
        assert len(children) == len(files) + len(folders) == 4
        assert (files, folders) == (["a.txt", "dir.txt"], ["dir", "dir2"])
        nested = {c.path: type(c) for c in store.iter_children("dir")}
        assert nested == {"dir/b.txt": FileInfo, "dir/sub": FolderEntry}
        entry = next(c for c in store.iter_children("dir") if isinstance(c, FolderEntry))
        assert entry.name == "sub"

    @pytest.mark.parametrize("pattern", list(GLOB_CASES))
    def test_glob_matches_files(self, store: Store, pattern: str) -> None:
        """BC-022: *, ?, classes and ** (zero or more folders); files only, each once."""
        if not self.gate(store, Capability.WRITE, Capability.GLOB):
            return
        self.seed(store, GLOB_TREE)
        found = list(store.glob(pattern))
        assert _paths(found) == sorted(GLOB_CASES[pattern])
        assert all(info.size == len(GLOB_TREE[info.path]) for info in found)

    def test_glob_treats_the_store_root_literally(self, store: Store) -> None:
        """ST-014: a root holding glob characters matches only itself."""
        if not self.gate(store, Capability.WRITE, Capability.GLOB):
            return
        store.write("a[1]/x.txt", b"1")
        store.write("a1/y.txt", b"2")
        child = store.child("a[1]")
        assert _paths(list(child.glob("*.txt"))) == ["x.txt"]
        assert _paths(list(store.glob("a[1]/*.txt"))) == ["a1/y.txt"]

    def test_glob_classes_never_match_a_slash(self, store: Store) -> None:
        """BC-022: a character class, negated or a range spanning '/', stays in its segment."""
        if not self.gate(store, Capability.WRITE, Capability.GLOB):
            return
        self.seed(store, {"d/x": b"1", "dbx": b"2"})
        for pattern in ("**/d[!a]x", "**d[!a]x", "**/d[+-0]x", "**/d[!a-c]x"):
            assert "d/x" not in _paths(list(store.glob(pattern))), pattern
        assert _paths(list(store.glob("**/d[!a]x"))) == ["dbx"]

    @pytest.mark.parametrize("pattern", ["[z-a]", "a/[z-a]*.txt", "**/[9-0]"])
    def test_malformed_patterns_are_invalid_argument(self, store: Store, pattern: str) -> None:
        """BC-022, ST-012: a malformed class is InvalidArgument from every listing method,
        when the call is made, before any item is listed."""
        if not self.gate(store, Capability.LIST):
            return
        name = pattern.rsplit("/", 1)[-1]
        calls: list[Callable[[], object]] = [
            lambda: store.list_files("", pattern=name),
            lambda: store.list_folders("", pattern=name),
        ]
        if store.supports(Capability.GLOB):
            calls.append(lambda: store.glob(pattern))
        for call in calls:
            with pytest.raises(InvalidArgument, match="malformed glob pattern"):
                call()
