"""The download path against a real HTTP server on 127.0.0.1: ok, truncated, corrupted, unreachable."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from dataclasses import replace

import numpy as np
import pytest
from data_fakes import images, publish, write_cifar_archive

from hyperlab.data import cache, download
from hyperlab.data.sources import cifar, official
from hyperlab.errors import DataNotFoundError


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET /<mode>/<dataset>/<file>: ok, truncated (half the declared bytes), corrupted (a flipped byte)."""

    files: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802 (http.server's naming)
        mode, _, name = self.path.lstrip("/").partition("/")
        body = self.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncated":
            body = body[: len(body) // 2]
        elif mode == "corrupted":
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def served_cifar10(tmp_path, monkeypatch):
    """A small CIFAR-10 archive served as cifar10/cifar-10-python.tar.gz, and the spec expecting it."""
    arrays = images(20, (32, 32, 3), 10, seed=7)
    publish(monkeypatch, "cifar10", arrays)
    archive = write_cifar_archive(tmp_path / "served", arrays).read_bytes()
    monkeypatch.setattr(_Handler, "files", {"cifar10/cifar-10-python.tar.gz": archive})
    md5 = hashlib.md5(archive).hexdigest()
    spec = replace(cifar.CIFAR10, files=(official.RemoteFile("cifar-10-python.tar.gz", md5),))
    monkeypatch.delenv("HYPERLAB_OFFLINE")
    return spec, arrays


def _leftovers():
    return sorted(p.name for p in cache.cache_root().rglob("*") if p.is_file())


def test_download_checks_converts_and_cleans_up(server, served_cifar10, monkeypatch):
    spec, arrays = served_cifar10
    monkeypatch.setenv("HYPERLAB_MIRROR", f"{server}/ok")

    dataset = official.resolve(spec, root=None)

    assert np.array_equal(dataset.x_train, arrays["x_train"])
    assert np.array_equal(dataset.y_test, arrays["y_test"])
    assert _leftovers() == ["cifar10.json", "cifar10.npz"]  # the archive itself is not kept


@pytest.mark.parametrize("mode, error", [("truncated", "truncated response"), ("corrupted", "md5")])
def test_bad_response_is_an_error_that_leaves_nothing(server, served_cifar10, monkeypatch, mode, error):
    spec, _ = served_cifar10
    monkeypatch.setenv("HYPERLAB_MIRROR", f"{server}/{mode}")

    with pytest.raises(download.DownloadError, match=error):
        official.resolve(spec, root=None)
    assert _leftovers() == []


def test_missing_file_on_the_server_means_not_found(server, served_cifar10, monkeypatch):
    spec, _ = served_cifar10
    monkeypatch.setattr(_Handler, "files", {})
    monkeypatch.setenv("HYPERLAB_MIRROR", f"{server}/ok")

    with pytest.raises(DataNotFoundError, match="download failed.*404"):
        official.resolve(spec, root=None)
    assert _leftovers() == []


def test_unreachable_host_means_not_found(served_cifar10, monkeypatch):
    spec, _ = served_cifar10
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HYPERLAB_MIRROR", f"http://127.0.0.1:{port}")

    with pytest.raises(DataNotFoundError, match="download failed") as error:
        official.resolve(spec, root=None)
    assert "\n" not in str(error.value)


def test_fetch_checks_sha256_too(server, tmp_path, monkeypatch):
    monkeypatch.setattr(_Handler, "files", {"x/file.bin": b"hello"})
    good = hashlib.sha256(b"hello").hexdigest()

    assert download.fetch(f"{server}/ok/x/file.bin", tmp_path / "a", sha256=good).read_bytes() == b"hello"
    with pytest.raises(download.DownloadError, match="sha256"):
        download.fetch(f"{server}/ok/x/file.bin", tmp_path / "b", sha256="0" * 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
