"""The studio in a real browser: slider release to new preview painted on a 24-MP raw, and screenshots of every view.

    python benchmarks/studio.py                          # latency on the sim-made 24-MP DNG (benchmarks/.cache)
    python benchmarks/studio.py --raw photo.NEF          # on another raw
    python benchmarks/studio.py --screenshots docs/studio  # also a PNG of every view, on the demo's raws

The latency is measured in the page (``performance.now()`` from the slider's ``change`` event, fired on release,
to the new preview drawn on the canvas), in Debian's chromium driven by Playwright, with the server warm (the
raw decoded and binned once, as the studio keeps it). The peer, measured in the same run: ``lumatune develop
--preview`` of the same raw in a fresh process, what one would run without the studio for the same look.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import make_24mp_dng  # noqa: E402  (the cached 24-MP DNG of the speed benchmark)

TOKEN = "benchmark-token"
VIEWPORT = {"width": 1440, "height": 900}
EV_VALUES = (1.0, 0.0, 1.5, 0.5, -0.5, 1.2, 0.2, 0.8)
WAIT_MS = 300_000


def serve(folder: Path):
    import uvicorn

    from lumatune.studio.server import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(folder, TOKEN), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{sock.getsockname()[1]}/?token={TOKEN}"


def open_page(playwright, url: str):
    browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
    page = browser.new_context(viewport=VIEWPORT, bypass_csp=True).new_page()
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready === '1'", timeout=WAIT_MS)
    return browser, page


def wait_paint(page, before: int) -> dict:
    page.wait_for_function(f"window.studio.paints > {before} && window.studio.settled()", timeout=WAIT_MS)
    return page.evaluate("window.studio.lastPaint")


def latency(raw: Path, rounds: int) -> None:
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="lumatune-studio-bench-"))
    try:
        (folder / raw.name).hardlink_to(raw)
    except OSError:
        shutil.copy(raw, folder / raw.name)
    server, url = serve(folder)
    with sync_playwright() as playwright:
        browser, page = open_page(playwright, url)
        start = time.perf_counter()
        page.click(f".card[data-path='{raw.name}']")
        wait_paint(page, 0)
        first = time.perf_counter() - start
        samples = []
        for i in range(rounds):
            before = page.evaluate("window.studio.paints")
            page.fill("#ctl-exposure-ev", str(EV_VALUES[i % len(EV_VALUES)]))
            samples.append(wait_paint(page, before))
        browser.close()
    server.should_exit = True
    shutil.rmtree(folder, ignore_errors=True)
    peer = []
    for _ in range(2):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lumatune", "develop", str(raw), "--preview", "-o", f"{out}/p.jpg"],
                           check=True, capture_output=True)
            peer.append(time.perf_counter() - t)
    release = [s["fromRelease"] / 1e3 for s in samples]
    server_ms = [s["serverMs"] / 1e3 for s in samples]
    shape = f"{samples[0]['width']} x {samples[0]['height']}"
    print(f"raw: {raw.name}; viewport {VIEWPORT['width']} x {VIEWPORT['height']}; preview {shape} px")
    print(f"open the image (decode + bin, first develop): {first:.2f} s")
    print(f"slider release -> preview painted, {rounds} moves: median {statistics.median(release):.3f} s "
          f"(min {min(release):.3f}, max {max(release):.3f}); server develop + PNG median {statistics.median(server_ms):.3f} s"
          f"; target <= 0.5 s")
    best_peer = min(peer)
    print(f"peer, same run: `lumatune develop --preview` in a fresh process {best_peer:.2f} s "
          f"-> the warm studio is {best_peer / statistics.median(release):.1f}x faster per change")


def screenshots(out: Path) -> None:
    """A PNG of every view, on the demo's raws (the virtual camera's natural scene and chart) and a third."""
    from playwright.sync_api import sync_playwright

    from lumatune.jobs.demo import DEMO_SCENES
    from lumatune.sim import simulate, write_sim

    folder = Path(tempfile.mkdtemp(prefix="lumatune-studio-shots-"))
    scenes = list(DEMO_SCENES) + [("natural", "A", (1500, 1000)), ("chart-wide", "D50", (1200, 800))]
    for i, (scene, illuminant, size) in enumerate(scenes):
        name = f"{scene}-{illuminant.lower()}.dng" if i >= len(DEMO_SCENES) else f"{scene}.dng"
        write_sim(folder / name, simulate(scene, illuminant=illuminant, size=size, seed=1 + i))
    out.mkdir(parents=True, exist_ok=True)
    server, url = serve(folder)
    with sync_playwright() as playwright:
        browser, page = open_page(playwright, url)
        page.wait_for_function("Array.from(document.querySelectorAll('.card img')).every(i => i.complete && i.naturalWidth)",
                               timeout=WAIT_MS)
        page.wait_for_function("document.body.dataset.infos === '1'", timeout=WAIT_MS)
        page.screenshot(path=out / "library.png")
        page.click(".card[data-path='natural.dng']")
        wait_paint(page, 0)
        page.wait_for_function("Array.from(document.querySelectorAll('.look img')).every(i => i.complete && i.naturalWidth)",
                               timeout=WAIT_MS)
        before = page.evaluate("window.studio.paints")
        page.evaluate("document.querySelector('details[data-stage=colour]').open = true")
        page.fill("#ctl-colour-vibrance", "0.4")
        wait_paint(page, before)
        page.screenshot(path=out / "develop.png")
        page.click("#mode-split")
        page.wait_for_function("window.studio.images.before && window.studio.settled()", timeout=WAIT_MS)
        before = page.evaluate("window.studio.paints")
        page.fill("#ctl-exposure-ev", "1.2")
        wait_paint(page, before)
        page.screenshot(path=out / "before-after.png")
        page.click("#mode-compare")
        page.select_option("#compare-look", "cinema")
        page.wait_for_function("window.studio.images.compare && window.studio.settled()", timeout=WAIT_MS)
        time.sleep(0.3)
        page.screenshot(path=out / "compare.png")
        page.click("#mode-single")
        page.click("#clip-toggle")
        page.screenshot(path=out / "clipping.png")
        page.click("#clip-toggle")
        page.click("#zoom")
        page.locator("#main-canvas").click(position={"x": 300, "y": 420})
        page.wait_for_function("window.studio.zoom", timeout=WAIT_MS)
        page.screenshot(path=out / "zoom-100.png")
        page.locator("#zoom-canvas").click()
        page.fill("#save-name", "warm-vibrant.toml")
        page.click("#save-look")
        page.wait_for_function("document.getElementById('save-result').textContent.startsWith('saved')")
        page.click("#export")
        page.wait_for_function("document.getElementById('job-result').dataset.done", timeout=WAIT_MS)
        page.evaluate("document.getElementById('side').scrollTop = 1e6")
        page.screenshot(path=out / "keep.png")
        page.click(".tab[data-view='folder']")
        before = page.evaluate("window.studio.paints")
        page.click(".card[data-path='colorchecker.dng']")
        wait_paint(page, before)
        before = page.evaluate("window.studio.paints")
        page.click(".look[data-ref='neutral']")
        wait_paint(page, before)
        page.click(".tab[data-view='lab']")
        page.wait_for_function("window.studio.lab && document.querySelectorAll('.patch').length", timeout=WAIT_MS)
        time.sleep(0.5)
        page.screenshot(path=out / "lab.png")
        browser.close()
    server.should_exit = True
    shutil.rmtree(folder, ignore_errors=True)
    print(f"screenshots in {out}: {', '.join(sorted(p.name for p in out.glob('*.png')))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, help="raw to time (default: the sim-made 24-MP DNG)")
    parser.add_argument("--rounds", type=int, default=8, help="slider moves timed")
    parser.add_argument("--screenshots", type=Path, help="also write a PNG of every view into this folder")
    parser.add_argument("--no-latency", action="store_true", help="screenshots only")
    args = parser.parse_args()
    if not shutil.which("chromium"):
        sys.exit("no chromium on PATH (apt-get install chromium)")
    if not args.no_latency:
        latency((args.raw or make_24mp_dng()).resolve(), args.rounds)
    if args.screenshots:
        screenshots(args.screenshots)


if __name__ == "__main__":
    main()
