"""The object-store core: the whole backend contract from a handful of primitives (head, one
listing page, conditional put, delete, ranged get; optionally batch delete, server-side
copy, a streamed upload). A flat backend subclasses `ObjectStoreBackend` and implements them."""

from __future__ import annotations

from typing import ClassVar

from remote_store.backend import Backend
from remote_store.capabilities import CapabilitySet
from remote_store.objectstore.core import OBJECT_STORE_CAPABILITIES, ObjectStore
from remote_store.objectstore.model import ListPage, ObjectMeta, check_precondition, folder_prefix
from remote_store.objectstore.primitives import Primitives
from remote_store.objectstore.putstream import PutStream, SpooledPut

__all__ = [
    "OBJECT_STORE_CAPABILITIES",
    "ListPage",
    "ObjectMeta",
    "ObjectStore",
    "ObjectStoreBackend",
    "Primitives",
    "PutStream",
    "SpooledPut",
    "check_precondition",
    "folder_prefix",
]


class ObjectStoreBackend(ObjectStore, Backend):
    """A `Backend` on the object-store core: implement `_head_object`, `_list_page`,
    `_put_object`, `_delete_object` and `_get_object`."""

    supported_capabilities: ClassVar[CapabilitySet] = OBJECT_STORE_CAPABILITIES
