"""Turning errors into one line that names the path and says what to do, and an exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from remote_store.cli.addresses import AddressError
from remote_store.errors import (
    AlreadyExists,
    BackendUnavailable,
    CapabilityNotSupported,
    ConfigError,
    ContainerNotFound,
    DirectoryNotEmpty,
    InvalidArgument,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PermissionDenied,
    RemoteStoreError,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


class CommandError(Exception):
    """A failure the command itself detected, with its own advice and exit code."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# Most specific first: IsAFolder is also an InvalidPath.
_HINTS: tuple[tuple[type[RemoteStoreError], str], ...] = (
    (AddressError, ""),  # its message already says what to write
    (NotFound, "check the path, e.g. with 'remote-store ls' on its folder"),
    (AlreadyExists, "remove it first, or choose another name"),
    (IsAFolder, "it is a folder: use -r for folders"),
    (NotAFolder, "a file stands where a folder is needed"),
    (DirectoryNotEmpty, "use -r to remove a folder and everything in it"),
    (PermissionDenied, "check the credentials and the permissions they have"),
    (BackendUnavailable, "the service could not be reached; check the network and retry"),
    (CapabilityNotSupported, "this store cannot do that; copy through another store"),
    (ConfigError, "fix the configuration (see 'remote-store stores')"),
    (InvalidPath, "paths are '/'-separated, relative to the store, without '..'"),
    (InvalidArgument, "see --help"),
)


# What to say instead of a backend's message when the error is about the address itself.
_SHORT: tuple[tuple[type[RemoteStoreError], str], ...] = (
    (NotFound, "{address} does not exist"),
    (AlreadyExists, "{address} already exists"),
    (PermissionDenied, "permission denied on {address}"),
)


@contextmanager
def about(address: str, key: str) -> Iterator[None]:
    """Let errors raised inside name *address* (the operand as the user wrote it), whose
    store-relative path is *key*."""
    try:
        yield
    except RemoteStoreError as error:
        vars(error).setdefault("cli_address", (address, key))
        raise


def exit_code_for(error: BaseException) -> int:
    """2 for what the user must fix in the command or config, else 1."""
    if isinstance(error, CommandError):
        return error.exit_code
    if isinstance(error, IsAFolder | NotAFolder):
        return EXIT_FAILED
    if isinstance(error, ConfigError | InvalidArgument | InvalidPath):
        return EXIT_USAGE
    return EXIT_FAILED


def describe(error: BaseException, where: str | None = None) -> str:
    """``"<where>: <what happened> (<what to do>)"`` on one line."""
    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, RemoteStoreError) and not where:
        message = _with_address(error, message)
    if isinstance(error, ContainerNotFound):
        # The message names the container: kept whole, not shortened to "<address> ...".
        return f"{where}: {message}" if where else message
    if isinstance(error, RemoteStoreError):
        for kind, hint in _HINTS:
            if isinstance(error, kind):
                message = f"{message} ({hint})" if hint else message
                break
    elif not isinstance(error, CommandError | OSError):
        message = f"unexpected {type(error).__name__}: {message} (run with --debug for details)"
    return f"{where}: {message}" if where else message


def _with_address(error: RemoteStoreError, message: str) -> str:
    address, key = vars(error).get("cli_address", (None, None))
    if address is None or repr(address) in message:
        return message
    if isinstance(error, ContainerNotFound):
        return f"{address}: {message}"
    if error.path == key:
        for kind, template in _SHORT:
            if isinstance(error, kind):
                return template.format(address=repr(address))
    return f"{address}: {message}"
