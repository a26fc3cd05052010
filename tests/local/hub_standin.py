"""A loopback stand-in for the Hugging Face Hub's file API, for download tests without a network.

It serves model repos from local folders on the routes `huggingface_hub` uses, checked against
the installed library:
- `HfApi.model_info`: `GET /api/models/{id}`;
- `snapshot_download`: `GET /api/models/{id}/revision/{rev}`, then the file listing
  `GET /api/models/{id}/tree/{rev}?recursive=…`;
- `hf_hub_download`, per file: `HEAD` and `GET /{id}/resolve/{rev}/{file}`, answered with
  `X-Repo-Commit`, `ETag` / `X-Linked-Etag` and `Content-Length` / `X-Linked-Size`; `Range`
  requests get a 206.
`*.safetensors` files are served as LFS files (sha256 etag), the rest as git blobs (git blob
sha1), as the Hub does.

Test knobs: `throttle_bps` slows the weight files (or only `slow_file`) down,
`break_file` + `break_after` cut the first download of that file after that many bytes and then
answer 500 for it until `broken` is cleared, `gated` maps a repo to the only token it accepts (a
403 `GatedRepo` otherwise), and `requests` / `tokens` record (method, path, Range header) and
the bearer token of every request. Point `HF_ENDPOINT` at `url`.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's id


class StandInHub:
    def __init__(self, repos: dict[str, Path]) -> None:
        self.repos = {repo_id: Path(folder) for repo_id, folder in repos.items()}
        self.throttle_bps: int | None = None
        self.slow_file: str | None = None  # throttle this weight file only (None: all of them)
        self.break_file: str | None = None
        self.break_after = 0
        self.broken = False
        self.cut_done = False  # the cut happens once; clearing `broken` repairs the file
        self.requests: list[tuple[str, str, str | None]] = []
        self.gated: dict[str, str] = {}  # repo id -> the only token that opens it
        self.tokens: list[str | None] = []  # the bearer token of every request
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> StandInHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def downloads_of(self, name: str) -> int:
        """How many times the file `name` was fetched (GET) so far."""
        with self._lock:
            return sum(1 for m, p, _ in self.requests if m == "GET" and p.endswith("/" + name))

    # ---- the repo's contents ----------------------------------------------------------------

    def files(self, repo_id: str) -> dict[str, Path]:
        root = self.repos[repo_id]
        return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}

    def tree_entry(self, name: str, path: Path) -> dict[str, Any]:
        data = path.read_bytes()
        entry: dict[str, Any] = {
            "type": "file",
            "oid": _git_blob_sha1(data),
            "size": len(data),
            "path": name,
        }
        if name.endswith(".safetensors"):
            entry["lfs"] = {
                "oid": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "pointerSize": 134,
            }
        return entry

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
                self._serve(head=True)

            def do_GET(self) -> None:  # noqa: N802
                self._serve(head=False)

            def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def _not_found(self) -> None:
                self._json(
                    404,
                    {"error": "Repository not found"},
                    {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"},
                )

            def _serve(self, *, head: bool) -> None:
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                auth = self.headers.get("Authorization") or ""
                token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
                with hub._lock:
                    hub.requests.append((self.command, path, self.headers.get("Range")))
                    hub.tokens.append(token)
                for repo_id, wanted in hub.gated.items():
                    if repo_id in path and token != wanted:
                        self._json(
                            403,
                            {"error": f"Access to model {repo_id} is restricted."},
                            {"X-Error-Code": "GatedRepo", "X-Error-Message": "restricted"},
                        )
                        return
                if path.startswith("/api/models/"):
                    self._api(path.removeprefix("/api/models/"), parts.query)
                    return
                repo_id, sep, rest = path.lstrip("/").partition("/resolve/")
                if not sep or repo_id not in hub.repos:
                    self._not_found()
                    return
                _revision, _, name = rest.partition("/")
                files = hub.files(repo_id)
                if name not in files:
                    self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
                    return
                self._file(name, files[name], head=head)

            def _api(self, rest: str, query: str) -> None:
                for repo_id in hub.repos:
                    if rest == repo_id or rest.startswith(repo_id + "/revision/"):
                        siblings = []
                        for name, p in hub.files(repo_id).items():
                            item: dict[str, Any] = {"rfilename": name}
                            if "blobs=" in query:
                                entry = hub.tree_entry(name, p)
                                item.update(size=entry["size"], blobId=entry["oid"])
                                if "lfs" in entry:
                                    item["lfs"] = {k: entry["lfs"][k] for k in ("sha256", "size")}
                            siblings.append(item)
                        self._json(
                            200,
                            {
                                "_id": "standin",
                                "id": repo_id,
                                "modelId": repo_id,
                                "sha": COMMIT,
                                "private": False,
                                "gated": False,
                                "disabled": False,
                                "downloads": 0,
                                "likes": 0,
                                "tags": [],
                                "siblings": siblings,
                            },
                        )
                        return
                    if rest.startswith(repo_id + "/tree/"):
                        files = hub.files(repo_id)
                        self._json(200, [hub.tree_entry(n, p) for n, p in files.items()])
                        return
                self._not_found()

            def _file(self, name: str, path: Path, *, head: bool) -> None:
                data = path.read_bytes()
                entry = hub.tree_entry(name, path)
                weights = name.endswith(".safetensors")
                breaking = name == hub.break_file and not head
                if breaking and hub.broken:
                    self._json(500, {"error": "stand-in hub: broken on purpose"})
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and not head:
                    start = int(rng.removeprefix("bytes=").split("-")[0] or 0)
                body = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", COMMIT)
                if "lfs" in entry:
                    self.send_header("X-Linked-Etag", f'"{entry["lfs"]["oid"]}"')
                    self.send_header("X-Linked-Size", str(len(data)))
                self.send_header(
                    "ETag", f'"{entry["lfs"]["oid"] if "lfs" in entry else entry["oid"]}"'
                )
                self.send_header("Accept-Ranges", "bytes")
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if head:
                    return
                cut = hub.break_after if breaking and not hub.cut_done else None
                self._send_body(name, body, weights, cut)

            def _send_body(self, name: str, body: bytes, weights: bool, cut: int | None) -> None:
                chunk = 16 * 1024
                sent = 0
                while sent < len(body):
                    if cut is not None and sent >= cut:
                        # A dropped connection mid-file; the next requests fail until repaired.
                        hub.broken = hub.cut_done = True
                        self.close_connection = True
                        self.wfile.flush()
                        self.connection.shutdown(2)
                        return
                    piece = body[sent : sent + chunk]
                    self.wfile.write(piece)
                    sent += len(piece)
                    if weights and hub.throttle_bps and hub.slow_file in (None, name):
                        time.sleep(len(piece) / hub.throttle_bps)

        return Handler
