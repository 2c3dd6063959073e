"""Real-browser fixtures: JupyterLab on 127.0.0.1 and Debian's Chromium driven by Playwright.

Screenshots and measured figures land in test-artifacts/browser/ (look at them).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from tests.conftest import HANG_S

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]

pytestmark = pytest.mark.browser


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: `make test` installs Debian's chromium (apt-get install chromium)")
        pytest.skip("Chromium not installed")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, root: Path, port: int, token: str, proc: subprocess.Popen):
        self.root, self.port, self.token, self.proc = root, port, token, proc

    def url(self, notebook: str) -> str:
        return (f"http://127.0.0.1:{self.port}/lab/workspaces/{uuid.uuid4().hex[:8]}/tree/{notebook}"
                f"?token={self.token}&reset")

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}?token={self.token}", method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for kernel in self.api("/api/kernels"):
            self.api(f"/api/kernels/{kernel['id']}", "DELETE")

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = self.root / name
        nbformat.write(nb, path)
        return path


def start_server(root: Path, app: str, extra_env: dict[str, str] | None = None,
                 extra_args: tuple[str, ...] = ()) -> Lab:
    """Start ``python -m <app>`` (jupyterlab, notebook or voila) on 127.0.0.1 and wait until it answers."""
    settings = root / ".settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                           "checkForUpdates": False}))
    # render every cell (no windowing), so what a test reads of a long notebook is in the page
    tracker = root / ".settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = free_port(), secrets.token_hex(8)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    log = open(root / f"{app}.log", "w")  # noqa: SIM115 - open for the server's whole life
    if app == "voila":
        args = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                f"--Voila.root_dir={root}", *extra_args]
    else:
        args = [sys.executable, "-m", app, "--no-browser", "--allow-root", f"--port={port}",
                "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                *extra_args]
    proc = subprocess.Popen(args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Lab(root, port, token, proc)
    deadline = time.monotonic() + HANG_S
    while True:
        try:
            if app == "voila":  # any page request would execute the notebook: just wait for the port
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            else:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start:\n" + (root / f"{app}.log").read_text()) from None
            time.sleep(0.3)
    server.log = log
    return server


def stop_server(server: Lab) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(20)
    except subprocess.TimeoutExpired:
        server.proc.kill()
    server.log.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory, chromium) -> Lab:
    # window.jupyterapp: the accessibility test switches the theme through JupyterLab's own command
    server = start_server(tmp_path_factory.mktemp("lab"), "jupyterlab",
                          extra_args=("--LabApp.expose_app_in_browser=True",))
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def bare_page(browser, request):
    """A fresh browser page; on failure a full-page screenshot is kept."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    pg = context.new_page()
    errors: list[str] = []  # a widget that fails to render ("Click to show javascript error") says why here
    pg.on("console", lambda m: errors.append(m.text[:2000]) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"[:2000]))
    yield pg
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        pg.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
        (ARTIFACTS / f"FAILED-{request.node.name}.console.txt").write_text("\n".join(errors))
        print(f"console errors of the failed page ({len(errors)}):", *errors[-20:], sep="\n")
    context.close()


@pytest.fixture
def page(bare_page, lab):
    yield bare_page
    lab.shutdown_kernels()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def record_figure(name: str, value: float) -> None:
    """Keep a measured figure (seconds) for the closing note and CI logs."""
    path = ARTIFACTS / "figures.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = round(value, 3)
    path.write_text(json.dumps(data, indent=2))
    print(f"{name}: {value:.3f}")
