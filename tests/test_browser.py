"""The widgets in a real browser: JupyterLab on 127.0.0.1 with a token, notebook 04 opened in headless
Chromium (Debian's `chromium`, driven by Playwright), every cell run, the slider and the audio
player rendered, and moving the slider changes the plot. A screenshot goes to runs/browser/.
Then `make demo`'s report.html: every player must load its audio.

Without Chromium the tests skip, unless MINIDCAE_REQUIRE_BROWSER=1 (set by .ci/run, which installs it).
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "runs" / "browser"

if CHROMIUM is None or not shutil.which("jupyter", path=str(Path(sys.executable).parent)):
    if os.environ.get("MINIDCAE_REQUIRE_BROWSER") == "1":
        raise RuntimeError("MINIDCAE_REQUIRE_BROWSER=1 but chromium or jupyter is missing: apt-get install chromium")
    pytest.skip("no chromium here (apt-get install chromium); .ci/run installs it", allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of notebook 04 (runs would otherwise autosave into the repository)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / "04_latent_space.ipynb", root)
    port, token = _free_port(), secrets.token_hex(16)
    # a clean workspace and settings folder, so nothing a previous session remembered changes the run
    env = {
        **os.environ,
        "MINIDCAE_PROFILE": "ci",
        "OMP_NUM_THREADS": "1",
        "TQDM_DISABLE": "1",
        "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
    }
    cmd = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--allow-root",
    ]  # CI runs as root
    # render every cell (no windowing), so the widget is in the page wherever the view has scrolled
    tracker = root / ".settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError as e:
            if time.time() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("JupyterLab did not start") from e
            time.sleep(0.5)
    yield url, token
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def dismiss_dialogs(page) -> None:
    """Accept any modal JupyterLab dialog (it would swallow the clicks), printing what it said."""
    for _ in range(5):
        dialog = page.locator(".jp-Dialog")
        if dialog.count() == 0:
            return
        print("JupyterLab dialog:", dialog.first.inner_text().replace("\n", " | "))
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "dialog.png"))
        page.locator(".jp-Dialog .jp-mod-accept").first.click()
        page.wait_for_timeout(500)


def test_notebook_04_widgets_render_and_the_slider_changes_the_plot(lab, browser):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/04_latent_space.ipynb?reset&token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    # JupyterLab may first ask which kernel to start (a modal dialog that swallows clicks), and the
    # kernel must be up before "Run All Cells" does anything: dismiss, wait for idle, run, and
    # retry until the kernel turns busy
    slider = None
    for _ in range(4):  # run all cells; if the widget has not appeared once the kernel is idle again, run again
        dismiss_dialogs(page)
        try:
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=10_000)  # the Run menu
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click(timeout=10_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='busy']", timeout=20_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=300_000)
            slider = page.wait_for_selector(".widget-slider .noUi-handle", timeout=20_000)  # the interpolation slider
            break
        except playwright.TimeoutError:
            page.keyboard.press("Escape")  # close a menu left open, then look again
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert slider is not None, f"the widget never appeared; errors: {errors.all_inner_texts()[:2]}"
    image = page.locator(".jupyter-widgets img").first
    image.wait_for(timeout=60_000)
    assert page.locator(".jupyter-widgets audio").count() >= 1  # the widget's player
    readout = page.locator(".widget-slider .widget-readout").first
    before_src, before_readout = image.get_attribute("src"), readout.inner_text()
    slider.scroll_into_view_if_needed()
    slider.click()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "src => { const i = document.querySelector('.jupyter-widgets img'); return i && i.src !== src; }",
        arg=before_src,
        timeout=60_000,
    )
    assert readout.inner_text() != before_readout
    # the caption and the plot catch up with the last key press: t = readout, caption "(1 - t)% ..."
    t = float(readout.inner_text())
    page.locator(".widget-label", has_text=f"{100 * (1 - t):.0f}% ").first.wait_for(timeout=120_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    image.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "04_latent_space.png"))
    assert (SHOTS / "04_latent_space.png").stat().st_size > 10_000


def test_every_player_of_the_demo_report_loads_its_audio(browser, tmp_path):
    from minidcae.cli.main import main

    assert main(["demo", "--out", str(tmp_path), "--profile", "ci"]) == 0
    page = browser.new_page()
    page.goto((tmp_path / "report.html").as_uri())
    n = page.locator("audio").count()
    assert n >= 20
    # each player: metadata loaded (a duration), no error
    page.wait_for_function(
        "[...document.querySelectorAll('audio')].every(a => a.readyState >= 1 || a.error)", timeout=60_000
    )
    states = page.evaluate(
        "[...document.querySelectorAll('audio')].map(a => [a.getAttribute('src'), a.readyState, a.duration, !!a.error])"
    )
    bad = [s for s in states if s[3] or not s[2] > 0]
    assert not bad, bad
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "demo_report.png"), full_page=True)
