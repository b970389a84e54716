"""Downloads of official dataset files: streamed to a temp file, checked, then renamed.

A truncated or corrupted response raises `DownloadError` and leaves nothing behind. Set
`$HYPERLAB_MIRROR` to a base URL to fetch `<mirror>/<dataset>/<file>` instead of the official hosts
(tests point it at a local server), and `$HYPERLAB_OFFLINE=1` to never try the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from hyperlab.errors import UserError

MIRROR_ENV = "HYPERLAB_MIRROR"
OFFLINE_ENV = "HYPERLAB_OFFLINE"
TIMEOUT_S = 30.0  # per socket operation, not for the whole file
CHUNK = 1 << 20  # bytes read at a time


class DownloadError(UserError):
    """A response arrived but is not the published file (truncated, wrong checksum)."""


class Unreachable(Exception):
    """No response: offline, host down, file not on the server (the caller tries other places)."""


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes")


def urls_for(dataset: str, filename: str, official_bases: tuple[str, ...]) -> list[str]:
    """Where to fetch `filename`: the mirror if one is set, else each official base in turn."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if mirror:
        return [f"{mirror.rstrip('/')}/{dataset}/{filename}"]
    return [base + filename for base in official_bases]


def fetch(url: str, dest: Path, *, md5: str | None = None, sha256: str | None = None,
          timeout: float = TIMEOUT_S) -> Path:
    """Download `url` to `dest`; raise DownloadError (nothing kept) unless it checks out."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    md5_hash, sha_hash, received = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    print(f"hyperlab: downloading {url}", file=sys.stderr)
    try:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                declared = response.headers.get("Content-Length")
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    md5_hash.update(chunk)
                    sha_hash.update(chunk)
                    received += len(chunk)
        except http.client.IncompleteRead as exc:
            raise DownloadError(f"{url}: truncated response ({exc}); nothing was kept") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                reason = f"HTTP {exc.code} {exc.reason}"
            else:
                reason = str(getattr(exc, "reason", None) or exc).strip() or type(exc).__name__
            raise Unreachable(f"{url}: {reason.splitlines()[0]}") from exc
        if declared is not None and received != int(declared):
            raise DownloadError(f"{url}: truncated response: {received} of {declared} bytes; "
                                "nothing was kept")
        for name, want, got in (("md5", md5, md5_hash), ("sha256", sha256, sha_hash)):
            if want and got.hexdigest() != want:
                raise DownloadError(f"{url}: {name} {got.hexdigest()} is not the published {want} "
                                    "(corrupted download); nothing was kept")
        os.replace(tmp, dest)
        return dest
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
