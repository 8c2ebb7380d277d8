"""The error model (sdd/specs/002-error-model.md)."""

from __future__ import annotations

import errno
import pickle
from pathlib import Path

import pytest

from remote_store import (
    AlreadyExists,
    BackendUnavailable,
    CapabilityNotSupported,
    ConfigError,
    DirectoryNotEmpty,
    InvalidArgument,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RemoteStoreError,
)


@pytest.mark.parametrize(
    ("error_type", "builtin", "code"),
    [
        (NotFound, FileNotFoundError, errno.ENOENT),
        (AlreadyExists, FileExistsError, errno.EEXIST),
        (PermissionDenied, PermissionError, errno.EACCES),
        (DirectoryNotEmpty, OSError, errno.ENOTEMPTY),
        (IsAFolder, IsADirectoryError, errno.EISDIR),
        (NotAFolder, NotADirectoryError, errno.ENOTDIR),
        (BackendUnavailable, ConnectionError, errno.EAGAIN),
    ],
)
def test_err_001_errors_are_builtins_with_errno(
    error_type: type[RemoteStoreError], builtin: type[Exception], code: int
) -> None:
    error = error_type("what happened", path="a/b.txt")
    assert isinstance(error, RemoteStoreError)
    assert isinstance(error, builtin)
    assert isinstance(error, OSError) and error.errno == code
    assert error.path == "a/b.txt"
    assert str(error) == "what happened"


def test_err_002_invalid_path_family_is_value_error() -> None:
    for error_type in (InvalidPath, IsAFolder, NotAFolder):
        assert issubclass(error_type, InvalidPath)
        assert issubclass(error_type, ValueError)
    assert issubclass(ConfigError, ValueError)
    assert issubclass(InvalidArgument, TypeError) and issubclass(InvalidArgument, ValueError)
    assert issubclass(CapabilityNotSupported, NotImplementedError)


def test_err_003_only_unavailable_is_retryable_by_default() -> None:
    assert BackendUnavailable("down").retryable
    for error_type in (NotFound, AlreadyExists, PermissionDenied, InvalidPath, PreconditionFailed):
        assert not error_type("x").retryable
    assert RemoteStoreError("throttled", retryable=True).retryable


def test_err_004_capability_error_names_capability_and_backend() -> None:
    error = CapabilityNotSupported("GLOB", backend="memory")
    assert error.capability == "GLOB"
    assert "GLOB" in str(error) and "memory" in str(error)


def test_err_005_errors_survive_pickling() -> None:
    """Errors cross process boundaries (multiprocessing, dask) intact."""
    error = NotFound("gone", path="p", backend="local")
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is NotFound and str(clone) == "gone"


def test_err_005_errors_the_kernel_rewrote_survive_pickling(tmp_path: Path) -> None:
    """A `NotFound` raised through a Store carries the store path as its filename (so
    OSError's own pickling would pass three arguments): it still round-trips, whole."""
    from remote_store.backends.local import LocalBackend
    from remote_store.store import Store

    store = Store(LocalBackend(str(tmp_path))).child("in")
    with store, pytest.raises(NotFound) as caught:
        store.read_bytes("x.bin")
    clone = pickle.loads(pickle.dumps(caught.value))
    assert type(clone) is NotFound
    assert (str(clone), clone.path, clone.filename, clone.errno) == (
        str(caught.value),
        caught.value.path,
        caught.value.filename,
        errno.ENOENT,
    )
    assert clone.backend == caught.value.backend == "local"
