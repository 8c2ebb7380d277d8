"""One job, two environments: the TOML file decides where the "reports" store lives.

    python examples/switch_env.py dev     # local disk (config/dev.toml)
    python examples/switch_env.py prod    # Azure (config/prod.toml): needs
                                          # AZURE_STORAGE_CONNECTION_STRING and an existing
                                          # container (AZURE_STORAGE_CONTAINER, default reports)

The job itself never names a backend.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from remote_store import Registry, RegistryConfig, Store

CONFIG_DIR = Path(__file__).with_name("config")


def publish_daily_report(store: Store, day: date) -> str:
    """Write the day's report (replacing an earlier run's) and return its path."""
    path = f"daily/{day:%Y/%m}/{day:%d}.csv"
    store.write(path, b"region,sales\nnorth,10\nsouth,7\n", overwrite=True)
    return path


def main(environment: str) -> int:
    config_file = CONFIG_DIR / f"{environment}.toml"
    if not config_file.is_file():
        print(f"usage: switch_env.py dev|prod (no {config_file})", file=sys.stderr)
        return 2
    config = RegistryConfig.from_toml(config_file)  # ${VAR} resolved from the environment
    print(f"{environment}: {config!r}")  # credentials print as Secret('**********')
    with Registry(config) as registry:
        store = registry.get_store("reports")
        path = publish_daily_report(store, date(2026, 3, 31))
        print(f"wrote {path} -> {store.native_path(path)}")
        print("files:", sorted(info.path for info in store.list_files("daily", recursive=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dev"))
