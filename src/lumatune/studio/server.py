"""The studio's web server: a Starlette app over one :class:`~lumatune.studio.workspace.Workspace`, run by uvicorn.

Safety (the page is served to a browser on this machine only):

-   the server binds 127.0.0.1 unless told ``--host`` (then a warning is printed);
-   every request carries the random token of this run (``?token=`` or the ``X-Lumatune-Token`` header), else 403;
-   requests whose ``Host`` header is not a loopback name (or the explicit ``--host``) are refused (403): a web
    page on another site cannot reach the server by rebinding its DNS name to 127.0.0.1;
-   requests that change something (POST) need the token in the header: a form on another site cannot send it;
-   only files under the folder are read or written (:meth:`Workspace.resolve`);
-   bad values get a JSON ``{"error": "..."}`` with status 400 (403 for a refused path), never an error page.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from importlib import resources
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lumatune.errors import LumatuneError
from lumatune.studio.workspace import (
    PathRefused,
    Workspace,
    all_looks,
    encode_jpeg,
    encode_png,
    load_named_look,
    look_from_spec,
    look_schema,
    spec_of_look,
    tuning_for,
)

__all__ = ["create_app", "TOKEN_HEADER", "LOOPBACK_NAMES"]

TOKEN_HEADER = "x-lumatune-token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
THUMB_EDGE = 320
LOOK_THUMB_EDGE = 160
EXPORT_FORMATS = {"jpeg": ".jpg", "tiff": ".tif"}
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript"}


class BadRequest(LumatuneError):
    """A request whose body or query is not what the endpoint takes."""


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """ASGI middleware: Host check, token check, token-in-header for state-changing methods."""

    def __init__(self, app, token: str, hosts: frozenset) -> None:
        self.app, self.token, self.hosts = app, token, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        refusal = self.refusal(request)
        if refusal:
            return await JSONResponse({"error": refusal}, status_code=403)(scope, receive, send)
        return await self.app(scope, receive, send)

    def refusal(self, request: Request) -> str | None:
        host = _host_name(request.headers.get("host", ""))
        if host not in self.hosts:
            return f"Host '{host}' refused: the studio answers only to {', '.join(sorted(self.hosts))}"
        in_header = request.headers.get(TOKEN_HEADER, "")
        given = in_header or request.query_params.get("token", "")
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return "missing or wrong token: open the URL the studio printed"
        if request.method not in ("GET", "HEAD") and not secrets.compare_digest(in_header.encode(), self.token.encode()):
            return f"state-changing requests need the token in the {TOKEN_HEADER} header"
        return None


class Jobs:
    """Background exports and folder runs, with progress the page polls."""

    def __init__(self) -> None:
        self._jobs: dict[str, dict] = {}

    def start(self, kind: str, total: int, work) -> str:
        job_id = uuid.uuid4().hex[:12]
        state = {"id": job_id, "kind": kind, "done": 0, "total": total, "finished": False, "error": None,
                 "outputs": [], "started": time.time()}
        self._jobs[job_id] = state

        def run():
            try:
                work(state)
            except LumatuneError as error:
                state["error"] = str(error)
            except Exception as error:  # a bug: reported in one line, the server goes on
                state["error"] = f"internal error: {error.__class__.__name__}: {error}"
            finally:
                state["finished"] = True
                state["seconds"] = round(time.time() - state["started"], 2)

        threading.Thread(target=run, daemon=True, name=f"lumatune-studio-{kind}").start()
        return job_id

    def get(self, job_id: str) -> dict:
        if job_id not in self._jobs:
            raise BadRequest(f"job '{job_id}': no such job")
        return self._jobs[job_id]


async def _body(request: Request) -> dict:
    try:
        data = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadRequest(f"body: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise BadRequest("body: expected a JSON object")
    return data


def _number(data: dict, key: str, default):
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise BadRequest(f"{key}: expected a number, got {value!r}")
    return value


def _query_int(request: Request, key: str, default: int) -> int:
    text = request.query_params.get(key)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"{key}: expected a whole number, got {text!r}") from None


def _png(image: np.ndarray, started: float) -> Response:
    return Response(encode_png(image), media_type="image/png",
                    headers={"x-render-ms": f"{(time.perf_counter() - started) * 1e3:.0f}", "cache-control": "no-store"})


def create_app(folder: str | Path, token: str, *, hosts=LOOPBACK_NAMES) -> Starlette:
    """The studio app for ``folder``; every request must carry ``token``."""
    workspace = Workspace(folder)
    jobs = Jobs()
    thumbs: dict[tuple, bytes] = {}
    infos: dict[str, dict] = {}
    static = resources.files("lumatune.studio") / "static"

    def page(request: Request) -> Response:
        name = request.path_params.get("name", "index.html")
        if "/" in name or name.startswith(".") or Path(name).suffix not in STATIC_TYPES:
            raise PathRefused(f"{name!r}: no such page")
        item = static / name
        if not item.is_file():
            raise PathRefused(f"{name!r}: no such page")
        body = item.read_bytes().replace(b"__TOKEN__", token.encode()) if name == "index.html" else item.read_bytes()
        return Response(body, media_type=STATIC_TYPES[Path(name).suffix],
                        headers={"cache-control": "no-store", "x-content-type-options": "nosniff",
                                 "content-security-policy": "default-src 'self'; img-src 'self' blob: data:; "
                                 "frame-ancestors 'none'"})

    def folder_listing(request: Request) -> Response:
        """Every raw at once, with what is known of it; the page asks /api/info for the rest, card by card."""
        files = [infos.get(rel) or {"path": rel, "name": Path(rel).name, "chart": workspace.has_truth(rel)}
                 for rel in workspace.raw_files()]
        return JSONResponse({"folder": str(workspace.root), "files": files})

    def file_info(request: Request) -> Response:
        rel = request.query_params.get("path", "")
        if rel not in infos:
            try:
                infos[rel] = {**workspace.info(rel), "chart": workspace.has_truth(rel)}
            except PathRefused:
                raise
            except LumatuneError as error:  # a broken raw is listed with its reason
                infos[rel] = {"path": rel, "name": Path(rel).name, "error": str(error), "chart": False}
        return JSONResponse(infos[rel])

    def thumb(request: Request) -> Response:
        rel = request.query_params.get("path", "")
        edge = _query_int(request, "size", THUMB_EDGE)
        key = ("file", rel, edge)
        if key not in thumbs:
            embedded = workspace.embedded_thumb(rel, edge)
            if embedded is None:
                embedded = encode_jpeg(workspace.render(rel, load_named_look(workspace, "default"), max_edge=edge))
            thumbs[key] = embedded
        return Response(thumbs[key], media_type="image/jpeg")

    def look_thumb(request: Request) -> Response:
        rel, ref = request.query_params.get("path", ""), request.query_params.get("look", "")
        edge = _query_int(request, "size", LOOK_THUMB_EDGE)
        key = ("look", rel, ref, edge)
        if key not in thumbs:
            thumbs[key] = encode_jpeg(workspace.render(rel, load_named_look(workspace, ref), max_edge=edge))
        return Response(thumbs[key], media_type="image/jpeg")

    def schema(request: Request) -> Response:
        return JSONResponse({"stages": look_schema()})

    def looks(request: Request) -> Response:
        return JSONResponse({"looks": all_looks(workspace)})

    def look(request: Request) -> Response:
        return JSONResponse(spec_of_look(load_named_look(workspace, request.query_params.get("ref", ""))))

    async def preview(request: Request) -> Response:
        data = await _body(request)
        started = time.perf_counter()
        channel = str(data.get("channel", "main"))[:32]
        ticket = (channel, workspace.claim(channel))
        look_obj = look_from_spec(data.get("look"))
        image = await _in_thread(workspace.render, data.get("path"), look_obj, max_edge=_number(data, "size", 1600),
                                 wb=data.get("wb"), ev=_number(data, "ev", 0.0), ticket=ticket)
        if image is None:
            return Response(status_code=204, headers={"x-superseded": "1"})
        return _png(image, started)

    async def zoom(request: Request) -> Response:
        data = await _body(request)
        started = time.perf_counter()
        image = await _in_thread(
            workspace.render_crop, data.get("path"), look_from_spec(data.get("look")),
            cx=_number(data, "cx", 0.5), cy=_number(data, "cy", 0.5), width=_number(data, "width", 1024),
            height=_number(data, "height", 768), wb=data.get("wb"), ev=_number(data, "ev", 0.0))
        return _png(image, started)

    async def white_balance(request: Request) -> Response:
        data = await _body(request)
        wb = workspace.grey_at(data.get("path"), _number(data, "x", -1), _number(data, "y", -1))
        return JSONResponse({"wb": wb})

    async def save_look(request: Request) -> Response:
        data = await _body(request)
        look_obj = look_from_spec(data.get("look"))
        name = data.get("file") or f"{look_obj.name}.toml"
        if not isinstance(name, str) or not name.endswith(".toml"):
            raise BadRequest(f"file: a look file name ends in .toml, got {name!r}")
        target = workspace.write_text(name, look_obj.to_toml(), overwrite=bool(data.get("overwrite", False)))
        saved = {"path": workspace.relative(target)}
        if data.get("wb") is not None:  # the white balance is the camera side: a tuning file beside the look
            tuning_target = workspace.write_text(name[:-5] + ".tuning.toml", tuning_for(data["wb"]).to_toml(),
                                                 overwrite=bool(data.get("overwrite", False)))
            saved["tuning"] = workspace.relative(tuning_target)
        return JSONResponse(saved)

    async def export(request: Request) -> Response:
        from lumatune.jobs.develop_files import DevelopJob, develop_file  # lazy: the encoders load numba kernels

        data = await _body(request)
        rel = data.get("path")
        source = workspace.resolve(rel)
        format = data.get("format", "jpeg")
        if format not in EXPORT_FORMATS:
            raise BadRequest(f"format: '{format}' is not one of {', '.join(EXPORT_FORMATS)}")
        look_obj = look_from_spec(data.get("look"))
        target = workspace.output_path(_free_name(workspace, Path(rel).with_suffix("").as_posix() + f"-{_slug(look_obj.name)}",
                                                  EXPORT_FORMATS[format]))
        job = DevelopJob(source=source, target=target, look=look_obj, tuning=tuning_for(data.get("wb")),
                         ev=_number(data, "ev", 0.0), quality=95)

        def work(state):
            result = develop_file(job)
            if result.error:
                raise LumatuneError(result.error)
            state["done"] = 1
            state["outputs"] = [workspace.relative(target)]

        return JSONResponse({"job": jobs.start("export", 1, work), "output": workspace.relative(target)})

    async def apply_folder(request: Request) -> Response:
        from lumatune.jobs.batch import BatchSettings, run_batch  # lazy: the batch engine (processes, dask's client)

        data = await _body(request)
        format = data.get("format", "jpeg")
        if format not in EXPORT_FORMATS:
            raise BadRequest(f"format: '{format}' is not one of {', '.join(EXPORT_FORMATS)}")
        look_obj = look_from_spec(data.get("look"))
        out_name = data.get("folder") or f"studio-{_slug(look_obj.name)}"
        if not isinstance(out_name, str) or "/" in out_name or out_name.startswith("."):
            raise BadRequest(f"folder: a folder name inside the folder, got {out_name!r}")
        out_dir = workspace.resolve(out_name, must_exist=False)
        if out_dir.is_symlink():
            raise PathRefused(f"{out_name!r}: is a link")
        settings = BatchSettings(look=look_obj, tuning=tuning_for(data.get("wb")), format=format, quality=95)
        total = len(workspace.raw_files())

        def work(state):
            watcher = threading.Thread(target=_count_outputs, args=(state, out_dir, EXPORT_FORMATS[format]), daemon=True)
            watcher.start()
            summary = run_batch(workspace.root, out_dir, settings, workers=1)
            state["done"] = len(summary.done) + len(summary.skipped)
            state["outputs"] = sorted(workspace.relative(p) for p in out_dir.glob(f"*{EXPORT_FORMATS[format]}"))
            state["failed"] = [list(f) for f in summary.failed]
            state["line"] = summary.line()

        return JSONResponse({"job": jobs.start("apply", total, work), "folder": out_name})

    def job(request: Request) -> Response:
        return JSONResponse(jobs.get(request.query_params.get("id", "")))

    async def lab(request: Request) -> Response:
        data = await _body(request)
        result = await _in_thread(workspace.lab, data.get("path"), look_from_spec(data.get("look")), wb=data.get("wb"))
        return JSONResponse(result)

    async def refused(request: Request, error: Exception) -> Response:
        return JSONResponse({"error": str(error)}, status_code=403)

    async def bad(request: Request, error: Exception) -> Response:
        return JSONResponse({"error": str(error)}, status_code=400)

    async def internal(request: Request, error: Exception) -> Response:
        return JSONResponse({"error": f"internal error: {error.__class__.__name__}: {error}"}, status_code=500)

    async def not_found(request: Request, error: Exception) -> Response:
        return JSONResponse({"error": f"{request.url.path}: no such page"}, status_code=getattr(error, "status_code", 404))

    routes = [
        Route("/", page), Route("/static/{name}", page),
        Route("/api/folder", folder_listing), Route("/api/info", file_info), Route("/api/thumb", thumb),
        Route("/api/lookthumb", look_thumb),
        Route("/api/schema", schema), Route("/api/looks", looks), Route("/api/look", look),
        Route("/api/preview", preview, methods=["POST"]), Route("/api/zoom", zoom, methods=["POST"]),
        Route("/api/wb", white_balance, methods=["POST"]), Route("/api/save_look", save_look, methods=["POST"]),
        Route("/api/export", export, methods=["POST"]), Route("/api/apply", apply_folder, methods=["POST"]),
        Route("/api/job", job), Route("/api/lab", lab, methods=["POST"]),
    ]
    handlers = {PathRefused: refused, LumatuneError: bad, 404: not_found, 405: not_found, Exception: internal}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.add_middleware(Guard, token=token, hosts=frozenset(hosts))
    app.state.workspace = workspace
    return app


async def _in_thread(function, *args, **kwargs):
    """Run a develop in a worker thread (numba releases the GIL), so the server keeps answering."""
    return await run_in_threadpool(function, *args, **kwargs)


def _count_outputs(state: dict, out_dir: Path, extension: str) -> None:
    while not state["finished"]:
        if out_dir.is_dir():
            state["done"] = max(state["done"], sum(1 for _ in out_dir.glob(f"*{extension}")))
        time.sleep(0.2)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:64] or "look"


def _free_name(workspace: Workspace, stem: str, extension: str) -> str:
    """``stem + extension``, or ``stem-2 + extension`` and so on when that file exists (nothing is overwritten)."""
    candidate, n = stem + extension, 1
    while (workspace.root / candidate).exists():
        n += 1
        candidate = f"{stem}-{n}{extension}"
    return candidate


def new_token() -> str:
    """A random token for one run of the studio (128 bits)."""
    return secrets.token_urlsafe(16)


def serve(folder: str | Path, *, host: str = "127.0.0.1", port: int = 0, open_browser: bool = True, echo=print) -> None:
    """Run the studio on ``host:port`` (0: a free port) until interrupted; print its URL (with the token) once."""
    import socket
    import webbrowser

    import uvicorn  # lazy: uvicorn (~60 ms), only when the studio runs

    token = new_token()
    hosts = LOOPBACK_NAMES if host in LOOPBACK_NAMES else LOOPBACK_NAMES | {host.lower()}
    app = create_app(folder, token, hosts=hosts)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connections wait in the backlog from the moment the URL is printed
    except OSError as error:
        raise LumatuneError(f"{host}:{port}: cannot listen there ({error.strerror})") from None
    bound_port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in ("127.0.0.1", "localhost") else f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound_port}/?token={token}"
    echo(url)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


