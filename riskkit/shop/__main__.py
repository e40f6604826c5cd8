"""``python -m riskkit.shop serve ...``: the shop as its own process (same options as
``riskkit shop serve``)."""

from __future__ import annotations

import sys

from riskkit.cli.shop import shop
from riskkit.errors import RiskkitError


def main() -> None:
    try:
        shop.main(prog_name="python -m riskkit.shop", standalone_mode=True)
    except RiskkitError as exc:
        print(f"riskkit: error: {exc.render()}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
