"""``python -m remote_store``: the same as the ``remote-store`` command."""

from remote_store.cli import main

if __name__ == "__main__":
    main()
