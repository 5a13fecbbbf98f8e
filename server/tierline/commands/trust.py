"""`tierline trust [PATH]`, `--list`, `--revoke PATH`: which workspace config files may set models,
directories and stores (see `tierline.config.trust`)."""

from __future__ import annotations

import sys
from pathlib import Path

from tierline.config.trust import TrustError, TrustStore, workspace_file


def run_trust(path: str | None, *, list_all: bool = False, revoke: str | None = None) -> int:
    store = TrustStore()
    if list_all:
        entries = store.entries()
        if not entries:
            print("no trusted workspaces")
        for entry in entries:
            state = "trusted" if entry.current else "changed since trusted: not trusted until trusted again"
            print(f"{entry.path}  ({state})")
        return 0
    if revoke is not None:
        file = workspace_file(Path(revoke))
        if store.revoke(Path(revoke)):
            print(f"no longer trusted: {file.resolve()}")
            return 0
        print(f"tierline trust: {file} was not trusted", file=sys.stderr)
        return 1
    target = Path(path or ".")
    try:
        file = store.trust(target)
    except TrustError as error:
        print(f"tierline trust: {error}", file=sys.stderr)
        return 2
    print(f"trusted: {file.resolve()} (as it is now; an edit revokes it)")
    print("Restart the language server (or reload the editor window) to apply it.")
    return 0
