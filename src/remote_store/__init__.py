"""remote-store: write file-storage logic once, run it on local disk, memory or Azure."""

from remote_store.backend import Backend
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.config import (
    BackendConfig,
    RegistryConfig,
    RetryPolicy,
    Secret,
    StoreProfile,
    resolve_env,
)
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
    PreconditionFailed,
    RemoteStoreError,
    ResourceLocked,
    StorageFull,
)
from remote_store.models import (
    ContentDigest,
    FileInfo,
    FolderEntry,
    FolderInfo,
    PathEntry,
    ResolutionPlan,
    WriteResult,
    WriteSource,
)
from remote_store.proxy import ProxyStore
from remote_store.redaction import SecretRedactionFilter
from remote_store.registry import Registry, register_backend
from remote_store.remote_path import RemotePath
from remote_store.store import Store

__all__ = [
    "AlreadyExists",
    "Backend",
    "BackendConfig",
    "BackendUnavailable",
    "Capability",
    "CapabilityNotSupported",
    "CapabilitySet",
    "ConfigError",
    "ContainerNotFound",
    "ContentDigest",
    "DirectoryNotEmpty",
    "FileInfo",
    "FolderEntry",
    "FolderInfo",
    "InvalidArgument",
    "InvalidPath",
    "IsAFolder",
    "NotAFolder",
    "NotFound",
    "PathEntry",
    "PermissionDenied",
    "PreconditionFailed",
    "ProxyStore",
    "Registry",
    "RegistryConfig",
    "RemotePath",
    "RemoteStoreError",
    "ResolutionPlan",
    "ResourceLocked",
    "RetryPolicy",
    "Secret",
    "SecretRedactionFilter",
    "StorageFull",
    "Store",
    "StoreProfile",
    "WriteResult",
    "WriteSource",
    "register_backend",
    "resolve_env",
]

__version__ = "0.1.0"
