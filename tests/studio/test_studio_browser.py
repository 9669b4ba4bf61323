"""The studio end to end in a real browser: Playwright driving Debian's ``chromium`` (``.ci/run`` installs it).

One browser and one server for the module; the tests run in order on one page, as a person would: open the
folder, open an image, move a slider, pick a look, save it, develop with it on the command line, export.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import numpy as np
import pytest
from PIL import Image


def chromium_path() -> str | None:
    """Debian's chromium (``.ci/run`` installs it); Playwright's own browser download is not used."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


REQUIRED = os.environ.get("LUMATUNE_REQUIRE_BROWSER") == "1"
"""Set by .ci/run: there a missing browser or Playwright is a failure, not a skip."""
if REQUIRED:
    import playwright.sync_api as playwright_api

    assert chromium_path(), "LUMATUNE_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)"
else:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
# one browser session walks the views in order: pyproject's `--dist loadfile` runs this file's tests in one worker
pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="no chromium on PATH: apt-get install chromium (.ci/run does; CI must not skip)"
)

TOKEN = "browser-token-0123456789abcdef"
VIEWPORT = {"width": 1440, "height": 900}
WAIT_MS = 60_000
"""Longest wait for a render: the first develop in a fresh process loads numba's cached kernels (seconds)."""
BRIGHTER_EV = 1.5
"""The exposure slider is moved to this (from the default look's 0.5 EV): the preview must get brighter."""


@pytest.fixture(scope="module")
def folder(raw_folder, tmp_path_factory):
    work = tmp_path_factory.mktemp("studio-browser")
    for item in raw_folder.iterdir():
        if item.suffix in (".dng", ".json"):
            shutil.copy(item, work / item.name)
    return work


@pytest.fixture(scope="module")
def server(folder):
    import uvicorn

    from lumatune.studio.server import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    instance = uvicorn.Server(uvicorn.Config(create_app(folder, TOKEN), log_level="warning"))
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def page(browser, server):
    # bypass_csp: Playwright's waits evaluate script, which the studio's Content-Security-Policy forbids
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/?token={TOKEN}")
    page.wait_for_function("document.body.dataset.ready === '1'", timeout=WAIT_MS)
    page.errors = errors
    yield page
    context.close()


def settled(page, paints_before: int) -> None:
    """Wait until a new preview is painted and no render is pending."""
    page.wait_for_function(f"window.studio.paints > {paints_before} && window.studio.settled()", timeout=WAIT_MS)


def canvas_pixels(page, canvas: str = "main-canvas") -> np.ndarray:
    """The canvas's pixels (lossless PNG from toDataURL), H x W x 3 uint8."""
    data_url = page.evaluate(f"document.getElementById('{canvas}').toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def paints(page) -> int:
    return page.evaluate("window.studio.paints")


def lumatune(*args: str) -> None:
    """Run the ``lumatune`` command line in this process (its numba kernels are warm)."""
    from lumatune.cli.app import main

    try:
        main(list(args))
    except SystemExit as exit_:
        assert exit_.code in (0, None), args


def test_folder_view_shows_every_raw_with_thumbnail_camera_and_exposure(page):
    cards = page.locator(".card")
    assert cards.count() == 2
    page.wait_for_function("Array.from(document.querySelectorAll('.card img')).every(i => i.complete && i.naturalWidth > 0)",
                           timeout=WAIT_MS)
    page.wait_for_function("document.body.dataset.infos === '1'", timeout=WAIT_MS)
    text = page.locator(".card[data-path='natural.dng']").inner_text()
    assert "natural.dng" in text and "Nikon" in text and "1/100 s" in text and "f/5.6" in text
    page.fill("#filter", "checker")
    assert page.locator(".card").count() == 1
    page.fill("#filter", "")


def test_open_an_image_and_a_slider_changes_the_preview(page):
    before = paints(page)
    page.click(".card[data-path='natural.dng']")
    settled(page, before)
    first = canvas_pixels(page)
    assert first.shape == (200, 300, 3)  # the binned preview (600 x 400 raw), smaller than the screen: not shrunk
    before = paints(page)
    page.fill("#ctl-exposure-ev", str(BRIGHTER_EV))  # sets the value and fires input and change, as a release does
    settled(page, before)
    brighter = canvas_pixels(page)
    assert np.mean(brighter.astype(float)) > np.mean(first.astype(float)) + 10
    paint = page.evaluate("window.studio.lastPaint")
    print(f"\nslider release to preview painted (300 x 200 preview, 0.24-MP raw): {paint['fromRelease']:.0f} ms "
          f"(server develop {paint['serverMs']:.0f} ms)")
    assert page.errors == []


def test_every_look_has_a_thumbnail_of_this_image_and_picking_one_changes_the_preview(page):
    looks = page.locator(".look")
    assert looks.count() >= 9
    page.wait_for_function("Array.from(document.querySelectorAll('.look img')).every(i => i.complete && i.naturalWidth > 0)",
                           timeout=WAIT_MS)
    default = canvas_pixels(page)
    before = paints(page)
    page.click(".look[data-ref='mono']")
    settled(page, before)
    mono = canvas_pixels(page)
    assert page.locator(".look.selected").get_attribute("data-ref") == "mono"
    def spread(image):  # largest red - blue difference: 0 or 1 (rounding) for grey
        return np.abs(image[..., 0].astype(int) - image[..., 2]).max()

    assert spread(mono) <= 1 < spread(default)


def test_saved_look_developed_by_the_command_line_gives_the_preview_pixels(page, folder, tmp_path):
    before = paints(page)
    page.click(".look[data-ref='vibrant']")
    settled(page, before)
    before = paints(page)
    page.fill("#ctl-colour-saturation", "1.6")
    settled(page, before)
    page.fill("#save-name", "studio-test.toml")
    page.click("#save-look")
    page.wait_for_function("document.getElementById('save-result').textContent.startsWith('saved')", timeout=WAIT_MS)
    saved = folder / "studio-test.toml"
    assert "saturation = 1.6" in saved.read_text()
    preview = canvas_pixels(page)
    out = tmp_path / "cli.png"
    lumatune("develop", str(folder / "natural.dng"), "--look", str(saved), "--preview", "--format", "png", "--bits", "8",
             "-o", str(out))
    developed = np.asarray(Image.open(out).convert("RGB"))
    assert developed.shape == preview.shape
    assert np.array_equal(developed, preview), f"max difference {np.abs(developed.astype(int) - preview).max()}"
    assert page.locator(".look[data-ref='studio-test.toml']").count() == 1  # the saved look is offered as a look


def test_export_writes_the_full_size_image_with_exif_and_icc_as_develop_does(page, folder, tmp_path):
    page.select_option("#export-format", "jpeg")
    page.click("#export")
    page.wait_for_function("document.getElementById('job-result').dataset.done", timeout=WAIT_MS)
    assert page.locator("#job-result").get_attribute("data-done") == "ok", page.locator("#job-result").inner_text()
    assert page.evaluate("window.studio.lastJob.outputs") == ["natural-studio-test.jpg"]  # named after the saved look
    exported = folder / "natural-studio-test.jpg"
    reference = tmp_path / "develop.jpg"
    lumatune("develop", str(folder / "natural.dng"), "--look", str(folder / "studio-test.toml"), "-o", str(reference))
    with Image.open(exported) as ours, Image.open(reference) as theirs:
        assert ours.size == (600, 400)
        assert ours.info["icc_profile"] and ours.info["icc_profile"] == theirs.info["icc_profile"]
        exif, expected = ours.getexif(), theirs.getexif()
        assert exif[0x010F] == "lumatune" and exif[0x0110] == expected[0x0110]  # Make, Model
        assert dict(exif.get_ifd(0x8769)) == dict(expected.get_ifd(0x8769))  # exposure, aperture, ISO...
        assert np.array_equal(np.asarray(ours), np.asarray(theirs))
    if shutil.which("exiftool"):  # a third reader (CI has it)
        tags = json.loads(subprocess.run(["exiftool", "-j", "-Make", "-ExposureTime", "-ProfileDescription", str(exported)],
                                         capture_output=True, text=True, check=True).stdout)[0]
        assert tags["Make"] == "lumatune" and tags["ExposureTime"] == "1/100" and tags["ProfileDescription"]


def test_apply_to_folder_runs_the_batch_engine_with_progress(page, folder):
    page.evaluate("document.getElementById('job-result').dataset.done = ''")
    page.click("#apply-folder")
    page.wait_for_function("document.getElementById('job-result').dataset.done", timeout=WAIT_MS)
    job = page.evaluate("window.studio.lastJob")
    assert job["error"] is None and (job["done"], job["total"]) == (2, 2)
    assert job["outputs"] == ["studio-studio-test/colorchecker.jpg", "studio-studio-test/natural.jpg"]
    assert (folder / "studio-studio-test" / "lumatune-manifest.jsonl").exists()  # the batch engine's record
    with Image.open(folder / "studio-studio-test" / "natural.jpg") as batch, \
            Image.open(folder / "natural-studio-test.jpg") as one:
        assert np.array_equal(np.asarray(batch), np.asarray(one))  # the same look and encoding as the export


def test_split_compare_white_balance_zoom_and_histogram(page):
    page.click("#mode-split")
    page.wait_for_function("window.studio.images.before && window.studio.settled()", timeout=WAIT_MS)
    split = canvas_pixels(page)
    page.click("#mode-compare")
    page.wait_for_function("window.studio.images.compare && window.studio.settled()", timeout=WAIT_MS)
    assert page.locator("#caption-b").inner_text()
    page.click("#mode-single")
    single = canvas_pixels(page)
    assert not np.array_equal(split[:, :100], single[:, :100]) and np.array_equal(split[:, -100:], single[:, -100:])
    assert page.evaluate("window.studio.clipped.high") >= 0  # the histogram counted the clipped pixels
    before = paints(page)
    page.click("#pick-grey")
    page.locator("#main-canvas").click(position={"x": 30, "y": 30})  # the sky: blue, so the balance turns warm
    settled(page, before)
    assert "picked" in page.locator("#wb-text").inner_text()
    assert not np.array_equal(canvas_pixels(page), single)
    page.click("#wb-reset")
    page.click("#zoom")
    page.locator("#main-canvas").click()
    page.wait_for_function("window.studio.zoom", timeout=WAIT_MS)
    zoom = canvas_pixels(page, "zoom-canvas")
    assert zoom.shape[0] == 400 and zoom.shape[1] == 600  # 100 %: the whole raw fits the viewer window
    page.locator("#zoom-canvas").click()


def test_lab_view_draws_de00_per_patch(page):
    page.click(".tab[data-view='folder']")
    before = paints(page)
    page.click(".card[data-path='colorchecker.dng']")
    settled(page, before)
    page.click(".tab[data-view='lab']")
    try:
        page.wait_for_function("window.studio.lab && document.querySelectorAll('.patch').length === 24", timeout=WAIT_MS)
    except playwright_api.TimeoutError:
        pytest.fail(f"no lab result: status {page.inner_text('#status')!r}, summary {page.inner_text('#lab-summary')!r}")
    lab = page.evaluate("window.studio.lab")
    values = [float(t) for t in page.locator(".patch").all_inner_texts()]
    assert values == pytest.approx([p["de00"] for p in lab["patches"]], abs=0.051)
    assert 0 < lab["de00_mean"] < 20


def test_requests_without_the_token_or_outside_the_folder_are_refused_in_the_browser(browser, server):
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(f"{server}/")
    assert response.status == 403 and "token" in page.inner_text("body")
    response = page.goto(f"{server}/api/thumb?path=..%2F..%2Fetc%2Fpasswd&token={TOKEN}")
    assert response.status == 403 and "refused" in page.inner_text("body")
    response = page.goto(f"{server}/api/thumb?path=%2Fetc%2Fpasswd&token={TOKEN}")
    assert response.status == 403
    status = page.evaluate(
        f"fetch('{server}/api/save_look?token={TOKEN}', {{method: 'POST', body: '{{}}'}}).then(r => r.status)")
    assert status == 403  # the token in the query only: a state-changing request needs it in the header
    context.close()
