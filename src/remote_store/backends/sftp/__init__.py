"""SFTP backend (needs ``pip install -e ".[sftp]"``): paramiko on a bounded pool of
SFTP channels over one SSH connection."""

from remote_store.backends.sftp.backend import SFTPBackend
from remote_store.backends.sftp.clients import HostKeyRejected
from remote_store.backends.sftp.urls import SFTPLocation, parse_url

__all__ = ["HostKeyRejected", "SFTPBackend", "SFTPLocation", "parse_url"]
