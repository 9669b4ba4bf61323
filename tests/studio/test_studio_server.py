"""The studio's server without a browser (Starlette's TestClient): token, Host, paths, bad values, controls."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import typing

import numpy as np
import pytest
from starlette.testclient import TestClient

from lumatune.pipeline import LOOK_STAGES
from lumatune.stages.registry import stages_of_side
from lumatune.studio.server import TOKEN_HEADER, create_app
from lumatune.studio.workspace import Workspace
from realraws import SHARED_RAWS, requires_shared

TOKEN = "test-token-0123456789abcdef"

BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def folder(raw_folder, tmp_path_factory):
    """The raws, plus a link to a raw outside the folder and a folder outside with a secret in it."""
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.toml").write_text("version = 1\n")
    os.symlink(raw_folder / "natural.dng", outside / "elsewhere.dng")  # a raw outside (a link to one inside)
    work = tmp_path_factory.mktemp("studio-server")
    for name in ("natural.dng", "natural.json", "colorchecker.dng", "colorchecker.json"):
        (work / name).write_bytes((raw_folder / name).read_bytes())
    os.symlink(outside / "elsewhere.dng", work / "link-out.dng")
    os.symlink(outside, work / "linked-folder")
    return work, outside


@pytest.fixture(scope="module")
def client(folder):
    return TestClient(create_app(folder[0], TOKEN), base_url=BASE, raise_server_exceptions=False)


def auth(**extra):
    return {TOKEN_HEADER: TOKEN, **extra}


def test_every_request_without_the_token_is_refused(client):
    for path in ("/", "/static/app.js", "/api/folder", "/api/schema", "/api/thumb?path=natural.dng", "/nope"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "token" in response.json()["error"]
    assert client.get("/api/folder", params={"token": "wrong"}).status_code == 403
    assert client.get("/api/folder", params={"token": TOKEN}).status_code == 200
    assert client.get("/api/folder", headers=auth()).status_code == 200


def test_state_changing_requests_need_the_token_in_a_header(client):
    body = {"path": "natural.dng", "look": {"name": "x"}, "size": 64}
    refused = client.post("/api/preview", params={"token": TOKEN}, json=body)
    assert refused.status_code == 403 and TOKEN_HEADER in refused.json()["error"]
    refused = client.post("/api/preview", json=body, cookies={"token": TOKEN})
    assert refused.status_code == 403
    assert client.post("/api/preview", headers=auth(), json=body).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "attacker.test:8000", "0.0.0.0", ""])
def test_a_host_header_that_is_not_loopback_is_refused(client, host):
    response = client.get("/api/folder", headers=auth(host=host))
    assert response.status_code == 403
    assert "Host" in response.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:1234", "localhost", "[::1]:8000"])
def test_loopback_host_names_are_served(client, host):
    assert client.get("/api/folder", headers=auth(host=host)).status_code == 200


def test_the_folder_lists_raws_inside_it_only(client):
    files = client.get("/api/folder", headers=auth()).json()["files"]
    names = sorted(f["name"] for f in files)
    assert names == ["colorchecker.dng", "natural.dng"]  # not link-out.dng, nor anything in linked-folder
    assert all(f["chart"] for f in files)  # both have the virtual camera's truth beside them
    natural = client.get("/api/info", params={"path": "natural.dng"}, headers=auth()).json()
    assert natural["camera"] == "lumatune Nikon 5100 (NPL)" and natural["lens"].startswith("lumatune virtual lens")
    assert natural["exposure_time"] == pytest.approx(0.01) and natural["size"] == [600, 400]


@pytest.mark.parametrize("path", [
    "../outside.dng", "/etc/passwd", "sub/../../natural.dng", "..", "link-out.dng", "linked-folder/secret.toml",
    "linked-folder/elsewhere.dng", "C:\\windows\\win.ini", "natural.dng\0.txt",
])
def test_paths_outside_the_folder_are_refused(client, path):
    for response in (
        client.get("/api/thumb", params={"path": path}, headers=auth()),
        client.get("/api/info", params={"path": path}, headers=auth()),
        client.post("/api/preview", json={"path": path, "look": {}, "size": 64}, headers=auth()),
        client.post("/api/wb", json={"path": path, "x": 0.5, "y": 0.5}, headers=auth()),
        client.post("/api/export", json={"path": path, "look": {}}, headers=auth()),
    ):
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]


@pytest.mark.parametrize("file", ["../escaped.toml", "/tmp/escaped.toml", "linked-folder/secret.toml", "link-out.dng"])
def test_nothing_is_written_outside_the_folder(client, folder, file):
    outside = folder[1]
    before = sorted(p.name for p in outside.iterdir()), (outside / "secret.toml").read_text()
    response = client.post("/api/save_look", json={"look": {"name": "x"}, "file": file, "overwrite": True}, headers=auth())
    assert response.status_code in (400, 403) and response.json()["error"]
    assert (sorted(p.name for p in outside.iterdir()), (outside / "secret.toml").read_text()) == before
    assert not (folder[0].parent / "escaped.toml").exists()


@pytest.mark.parametrize("body, words", [
    ({"look": {"blocks": {"exposure": {"ev": 99}}}}, ["exposure", "ev", "99", "out of range"]),
    ({"look": {"blocks": {"exposure": {"ev": "bright"}}}}, ["exposure", "ev", "expected a number"]),
    ({"look": {"blocks": {"tone": {"curve": "wiggly"}}}}, ["tone", "curve", "wiggly"]),
    ({"look": {"blocks": {"nosuch": {"x": 1}}}}, ["unknown block", "nosuch"]),
    ({"look": {"blocks": {"colour": {"nosuch": 1}}}}, ["unknown key", "nosuch"]),
    ({"look": {"blocks": {"colour": {"hue_shift": [1, 2]}}}}, ["hue_shift", "expected 8 values"]),
    ({"look": "default"}, ["look"]),
    ({"look": {}, "size": "big"}, ["size", "expected a number"]),
    ({"look": {}, "size": 10**9}, ["size"]),
    ({"look": {}, "wb": [1, 0, 1]}, ["wb", "positive"]),
    ({"look": {}, "ev": float("nan")}, ["ev"]),
])
def test_bad_values_get_a_clear_json_message(client, body, words):
    response = client.post("/api/preview", content=_json({"path": "natural.dng", "size": 64, **body}), headers=auth())
    assert response.status_code == 400, response.text
    message = response.json()["error"]
    assert all(w in message for w in words), message
    assert "Traceback" not in message and "/tmp/lumatune-studio" not in message


def _json(value) -> bytes:
    import json

    return json.dumps(value, allow_nan=True).encode()


def test_malformed_requests_get_json_not_an_error_page(client):
    cases = [
        client.post("/api/preview", content=b"{not json", headers=auth()),
        client.post("/api/preview", content=b"[1, 2]", headers=auth()),
        client.get("/api/thumb", params={"path": "natural.dng", "size": "x"}, headers=auth()),
        client.get("/api/job", params={"id": "nope"}, headers=auth()),
        client.post("/api/export", json={"path": "natural.dng", "look": {}, "format": "gif"}, headers=auth()),
        client.post("/api/lab", json={"path": "natural.json", "look": {}}, headers=auth()),
        client.get("/api/preview", headers=auth()),
        client.get("/api/look", params={"ref": "nosuchlook"}, headers=auth()),
    ]
    for response in cases:
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/json" and response.json()["error"]


def test_a_control_for_every_look_parameter_from_the_params_definitions(client):
    stages = {s["stage"]: s["controls"] for s in client.get("/api/schema", headers=auth()).json()["stages"]}
    assert list(stages) == list(LOOK_STAGES)
    look_stages = stages_of_side("look")
    sliders = 0
    for name, controls in stages.items():
        by_name = {c["name"]: c for c in controls}
        params = look_stages[name].params
        hints = typing.get_type_hints(params)
        for f in dataclasses.fields(params):
            meta = f.metadata
            if hints[f.name] is float and meta.get("min") is not None and meta.get("max") is not None:
                control = by_name[f.name]
                assert control["kind"] == "slider"
                assert (control["default"], control["min"], control["max"]) == (f.default, meta["min"], meta["max"])
                assert control["unit"] == meta["unit"] and control["doc"] == meta["doc"]
                sliders += 1
            if hints[f.name] is bool:
                assert by_name[f.name]["kind"] == "toggle"
    assert sliders >= 30


def test_a_newer_request_makes_an_older_waiting_one_stale(folder):
    from lumatune.config.look import load_look

    workspace = Workspace(folder[0])
    older = ("main", workspace.claim("main"))
    newer = ("main", workspace.claim("main"))
    look = load_look("default")
    assert workspace.render("natural.dng", look, max_edge=64, ticket=older) is None
    assert workspace.render("natural.dng", look, max_edge=64, ticket=newer).shape[:2] == (50, 75)  # 300 x 200 // 4


def test_tiff_export_is_the_file_develop_writes(client, folder, tmp_path):
    import tifffile

    from lumatune.cli.app import main

    started = client.post("/api/export", json={"path": "natural.dng", "look": {"name": "tiffy"}, "format": "tiff"},
                          headers=auth()).json()
    for _ in range(600):
        job = client.get("/api/job", params={"id": started["job"]}, headers=auth()).json()
        if job["finished"]:
            break
        time.sleep(0.1)
    assert job["error"] is None and job["outputs"] == ["natural-tiffy.tif"]
    reference = tmp_path / "develop.tif"
    (tmp_path / "tiffy.toml").write_text('version = 1\nname = "tiffy"\n')
    try:
        main(["develop", str(folder[0] / "natural.dng"), "--look", str(tmp_path / "tiffy.toml"), "-o", str(reference)])
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    with tifffile.TiffFile(folder[0] / "natural-tiffy.tif") as ours, tifffile.TiffFile(reference) as theirs:
        page, expected = ours.pages[0], theirs.pages[0]
        assert page.shape == (400, 600, 3) and page.dtype == np.uint16
        assert page.tags["InterColorProfile"].value == expected.tags["InterColorProfile"].value
        assert page.tags["ExifTag"].value == expected.tags["ExifTag"].value  # exposure, aperture, ISO...
        assert page.tags["Make"].value == "lumatune"
        assert np.array_equal(page.asarray(), expected.asarray())


EMBEDDED_THUMB_MEAN_DIFF = 6.0
"""Mean |difference| (8-bit codes) allowed between the studio's thumbnail and the raw's embedded JPEG reduced by
Pillow: one more JPEG encoding (quality 85) on the studio's side gives 5.0 on the D30's 200-px thumbnail; 20 %
margin. A binned develop in the default look (the fallback) differs by 22.4 from it."""


@requires_shared
def test_a_real_raw_shows_its_embedded_preview_and_its_camera(tmp_path):
    import io

    import rawpy
    from PIL import Image

    shutil.copy(SHARED_RAWS / "canon_eos_d30.crw", tmp_path / "IMG_0001.CRW")
    client = TestClient(create_app(tmp_path, TOKEN), base_url=BASE, raise_server_exceptions=False)
    assert [f["name"] for f in client.get("/api/folder", headers=auth()).json()["files"]] == ["IMG_0001.CRW"]
    info = client.get("/api/info", params={"path": "IMG_0001.CRW"}, headers=auth()).json()
    assert "Canon" in info["camera"] and "D30" in info["camera"]
    thumb = client.get("/api/thumb", params={"path": "IMG_0001.CRW", "size": 200}, headers=auth())
    assert thumb.headers["content-type"] == "image/jpeg"
    with rawpy.imread(str(tmp_path / "IMG_0001.CRW")) as raw:
        embedded = Image.open(io.BytesIO(raw.extract_thumb().data))  # LibRaw's, read independently
    embedded.thumbnail((200, 200))  # Pillow decodes a JPEG reduced (draft) then resamples
    embedded = embedded.convert("RGB")
    ours = Image.open(io.BytesIO(thumb.content)).convert("RGB")
    assert ours.size == embedded.size and max(ours.size) == 200
    difference = np.abs(np.asarray(ours, float) - np.asarray(embedded, float)).mean()
    assert difference < EMBEDDED_THUMB_MEAN_DIFF
    preview = client.post("/api/preview", json={"path": "IMG_0001.CRW", "look": {"name": "x"}, "size": 256},
                          headers=auth())
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
