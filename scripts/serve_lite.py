"""Serve the static site in lite/_output/ on 127.0.0.1 (make lite-serve).

Python's http.server with the types a browser insists on: application/wasm for
Pyodide's WebAssembly (streaming compilation) and text/javascript for ES modules.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import threading
from pathlib import Path

SITE = Path(__file__).resolve().parent.parent / "lite" / "_output"
TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".whl": "application/zip",
    ".ipynb": "application/json",
    ".zip": "application/zip",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files with the right types, and no noise per request unless asked."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}
    quiet = True

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if not self.quiet:
            super().log_message(format, *args)


def start(site: Path = SITE, port: int = 0, *, quiet: bool = True) -> http.server.ThreadingHTTPServer:
    """Serve ``site`` on 127.0.0.1 in a background thread; return the server (its port: server.server_port)."""
    handler = functools.partial(type("SiteHandler", (Handler,), {"quiet": quiet}), directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, name="lite-site", daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the built JupyterLite site on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--site", type=Path, default=SITE)
    args = parser.parse_args()
    if not (args.site / "jupyter-lite.json").is_file():
        raise SystemExit(f"No site in {args.site}: run make lite first.")
    server = start(args.site, args.port, quiet=False)
    print(f"Serving {args.site} at http://127.0.0.1:{server.server_port}/lab/index.html (Ctrl+C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
