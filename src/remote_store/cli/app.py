"""The ``remote-store`` command: global options, sub-commands, errors and exit codes."""

from __future__ import annotations

import traceback
from typing import Any

import click

from remote_store import __version__
from remote_store.cli import browse, making, moving, removing
from remote_store.cli.context import State, global_flags
from remote_store.cli.failures import EXIT_INTERRUPTED, describe, exit_code_for
from remote_store.cli.output import note


class _Cli(click.Group):
    """Turns every error into one line on stderr and an exit code (1 failed, 2 usage)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            note("remote-store: interrupted")
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # A reader such as `head` went away: not an error of ours.
            ctx.exit(0)
        except Exception as error:
            found = ctx.find_object(State)
            if found is not None and found.debug:
                traceback.print_exc()
            note(f"remote-store: error: {describe(error)}")
            ctx.exit(exit_code_for(error))


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=_Cli, context_settings=CONTEXT_SETTINGS)
@click.option(
    "-c",
    "--config",
    "config_path",
    metavar="PATH",
    help="TOML configuration (else $REMOTE_STORE_CONFIG, ./remote-store.toml, "
    "[tool.remote-store] in ./pyproject.toml, or a store 'local' on the current folder).",
)
@global_flags
@click.version_option(__version__, "-V", "--version", prog_name="remote-store")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """List, copy and sync files across local disk, memory and Azure stores.

    An ADDRESS is STORE:path for a store in the configuration, an Azure URL
    (az://container/path or abfss://container@account.dfs.core.windows.net/path,
    credentials from AZURE_STORAGE_* variables or DefaultAzureCredential), '-' for
    standard input/output, or else a local path.

    \b
    Examples:
      remote-store stores                       # what is configured, and from where
      remote-store ls -l data:raw
      remote-store cp -r -j 8 data:raw ./raw    # parallel download
      remote-store sync ./out data:incoming     # copy only what changed
      remote-store cat data:raw/events.jsonl | head

    Exit status: 0 ok, 1 an operation failed, 2 a usage or configuration error,
    130 interrupted.
    """
    state = ctx.ensure_object(State)
    state.config_path = config_path
    ctx.call_on_close(state.close)


for _command in (
    browse.ls,
    browse.tree,
    browse.stat,
    browse.du,
    browse.cat,
    moving.cp,
    moving.get,
    moving.put,
    moving.mv,
    removing.rm,
    making.mb,
    moving.sync,
    browse.resolve,
    browse.stores,
):
    cli.add_command(_command)


def run(argv: list[str] | None = None) -> int:
    """Run the command line on *argv* (default: ``sys.argv[1:]``); return the exit code."""
    try:
        cli.main(args=argv, prog_name="remote-store", standalone_mode=True)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
