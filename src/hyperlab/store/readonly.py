"""Open a workspace's store for reading only (the dashboard and exports never write the database).

SQLite enforces it: the connection is opened with a `file:...?mode=ro` URI, so any write raises
`sqlite3.OperationalError: attempt to write a readonly database`. Readers of a WAL database see
every transaction committed before each read starts, so runners keep writing while this reads.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from hyperlab.errors import UserError
from hyperlab.store.sqlite import DB_NAME, Store, resolve_workspace


def open_readonly(workspace: str | os.PathLike | None = None) -> Store:
    """The workspace's store on a read-only connection; UserError when there is no database."""
    root = resolve_workspace(workspace)
    db_path = root / DB_NAME
    if not db_path.is_file():
        raise UserError(f"{root}: not a hyperlab workspace ({DB_NAME} is missing); "
                        f"`hyperlab run STUDY --workspace {root}` creates it")
    uri = f"file:{quote(str(Path(db_path).resolve()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 60000")
    return Store(root, conn)
