"""mb: create the container or bucket an address names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from remote_store.cli.context import global_flags, json_flag, state
from remote_store.cli.failures import CommandError
from remote_store.cli.output import emit_json


@click.command()
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@json_flag
@global_flags
def mb(addresses: tuple[str, ...], as_json: bool) -> None:
    """Create the container (Azure) or bucket (S3) each address names; one that exists
    is left as it is.

    \b
    Examples:
      remote-store mb az://new-container
      remote-store mb s3://new-bucket
      remote-store mb lake:
    """
    made: list[dict[str, Any]] = []
    for loc in state().open_all(list(addresses)):
        with loc.about():
            backend = loc.store.backend
            create: Callable[[], bool] | None = getattr(
                backend, "create_container", getattr(backend, "create_bucket", None)
            )
            if not callable(create):
                raise CommandError(
                    f"{loc.show()!r}: a {backend.name} store has no container or bucket to create"
                )
            made.append({"address": loc.show(), "created": create()})
    if as_json:
        emit_json(made)
        return
    for item in made:
        verb = "created" if item["created"] else "exists:"
        click.echo(f"{verb} {item['address']}")
