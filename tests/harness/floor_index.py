"""A package index on 127.0.0.1 for the floor command's tests: a real HTTP server answering
PEP 691 JSON pages (and, under /html/, an HTML page, as an index without JSON would)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from scripts.floor.releases import SIMPLE_JSON


def project_page(name: str, versions: list[str]) -> dict[str, Any]:
    """A JSON page listing one wheel per version."""
    files = [{"filename": f"{name}-{v}-py3-none-any.whl", "yanked": False} for v in versions]
    return {"meta": {"api-version": "1.1"}, "name": name, "files": files}


class _Index(BaseHTTPRequestHandler):
    def __init__(self, pages: Mapping[str, Mapping[str, Any]], *args: Any) -> None:
        self.pages = pages
        super().__init__(*args)

    def do_GET(self) -> None:
        name = self.path.strip("/").rpartition("/")[2]
        if name not in self.pages:
            self.send_error(404)
            return
        if self.path.startswith("/html/"):
            body, kind = f"<html><a href='{name}-1.0.tar.gz'>x</a></html>".encode(), "text/html"
        else:
            body, kind = json.dumps(self.pages[name]).encode(), SIMPLE_JSON
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_index(pages: Mapping[str, Mapping[str, Any]]) -> Iterator[str]:
    """Serve `pages` (canonical name -> JSON page); yields `http://127.0.0.1:<port>`: the JSON
    simple API is at `/simple/`, the HTML one at `/html/`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Index, pages))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
