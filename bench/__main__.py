"""`python -m bench <name> [options]`: run the bench module `bench/<name>.py`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# Bench modules, each exposing `main(argv) -> int`. Helper modules (harness, server, loadgen)
# are not listed, so they cannot be run by mistake.
BENCHES = ("http", "pages", "segments", "sending", "submissions", "workflows")

USAGE = "usage: python -m bench <name> [options]   (python -m bench <name> --help)"


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in BENCHES:
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"unknown bench {argv[0]!r}", file=sys.stderr)
        print(USAGE, file=sys.stderr)
        print("available benches: " + ", ".join(BENCHES), file=sys.stderr)
        return 0 if argv and argv[0] in {"-h", "--help"} else 2
    module = importlib.import_module(f"bench.{argv[0]}")
    exit_code: int = module.main(list(argv[1:]))
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
