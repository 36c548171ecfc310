"""End to end: the widgets in a real JupyterLab, driven by a headless Chromium.

Starts JupyterLab on 127.0.0.1 (a free port, a random token, throw-away config, runtime
and data folders, the offline model with a small delay between streamed chunks), opens a
copy of tests/e2e/widgets_demo.ipynb, runs all cells, chats with the chat widget and
checks the tokenizer playground's counts. Screenshots go to artifacts/e2e/.

Uses the operating system's Chromium (Debian: apt-get install chromium), never a
browser downloaded by Playwright. Skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from offline_env import apply

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "e2e" / "widgets_demo.ipynb"
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not found (Debian/Ubuntu: apt-get install chromium)"),
]

TIMEOUT_MS = 30_000


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT/
    token: str
    root: Path  # the server's root_dir: a temporary copy of the fixture
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_get(url: str, token: str, path: str):
    """GET a server REST endpoint; None while the server does not answer."""
    request = urllib.request.Request(url + path, headers={"Authorization": f"token {token}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(request, timeout=2) as response:
            return json.loads(response.read()) if response.status == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def server_ready(url: str, token: str) -> bool:
    status = api_get(url, token, "api/status")
    return isinstance(status, dict) and "started" in status


def wait_for_kernel(lab: Lab, timeout: float = 30) -> None:
    """Until the page's kernel is started, idle and connected to the page. (The toolbar
    says idle before the kernel exists; running cells then would ask for a kernel.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kernels = api_get(lab.url, lab.token, "api/kernels") or []
        if any(k.get("connections", 0) >= 1 and k.get("execution_state") == "idle" for k in kernels):
            return
        time.sleep(0.2)
    pytest.fail(f"the notebook's kernel did not start within {timeout:.0f} s:\n{lab.log_tail()}")


def copy_fixture(target: Path) -> None:
    """The fixture without its stored outputs: the screenshots then show only this run."""
    nb = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    target.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


def stop(process: subprocess.Popen) -> None:
    """Stop the server (it shuts its kernels down), then anything left in its process group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if os.name != "nt":
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the group we started: kernels, if any remain
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def lab() -> Iterator[Lab]:
    """A JupyterLab server on a free port, always stopped and cleaned up afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="course-e2e-"))
    process = None
    log_file = None
    try:
        root = tmp / "notebooks"
        root.mkdir()
        copy_fixture(root / FIXTURE.name)
        env = dict(os.environ)
        apply(env)  # offline, no real key, fixed seed
        env.update({
            "COURSE_OFFLINE_DELAY": "0.02",  # seconds per streamed chunk: visibly incremental
            "JUPYTER_CONFIG_DIR": str(tmp / "config"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
            # User-level data only: the widgets' lab extension is in sys.prefix/share/jupyter.
            "JUPYTER_DATA_DIR": str(tmp / "data"),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
            "IPYTHONDIR": str(tmp / "ipython"),
        })
        # No "get notified about Jupyter news?" toast over the page.
        settings = tmp / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
        port, token = free_port(), secrets.token_hex(16)
        log = tmp / "server.log"
        log_file = log.open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
             "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
             "--LabApp.extension_manager=readonly",  # no PyPI look-ups
             *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
            cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=os.name != "nt")
        lab = Lab(f"http://127.0.0.1:{port}/", token, root, log)
        deadline = time.monotonic() + 30
        while not server_ready(lab.url, token):
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{lab.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer /api/status within 30 s:\n{lab.log_tail()}")
            time.sleep(0.2)
        yield lab
    finally:
        if process is not None:
            stop(process)
        if log_file is not None:
            log_file.close()
        shutil.rmtree(tmp, ignore_errors=True)


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def reply_text(page: Page) -> str:
    """The last assistant message in the chat, without the typing cursor."""
    replies = page.locator(".course-chat-history .course-msg-assistant .course-msg-text")
    if replies.count() == 0:
        return ""
    return replies.last.inner_text().replace("▌", "").strip()


def run_all_cells(page: Page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


SHOTS = ("01-after-run-all", "02-chat-streaming", "03-chat-reply", "04-tokenizer-korean", "05-cost-calculator",
         "99-failure")


def test_widgets_in_jupyterlab(lab: Lab) -> None:
    started = time.monotonic()
    for name in SHOTS:  # no screenshot left over from an earlier run
        (ARTIFACTS / f"{name}.png").unlink(missing_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(f"{lab.url}lab/tree/{FIXTURE.name}?token={lab.token}")
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
            wait_for_kernel(lab)
            page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
            run_all_cells(page)

            # -- chat: type, Send, and watch the reply stream in
            box = page.locator(".course-chat-input input")
            box.wait_for()
            page.locator(".course-cost-result .course-cost").first.wait_for()  # the last cell ran too
            shot(page, "01-after-run-all")
            box.fill("Give me a long answer, please")
            page.locator("button.course-chat-send").click()

            lengths: list[int] = []
            questions_shown: set[int] = set()
            deadline = time.monotonic() + 20
            mid_stream_shot = False
            while time.monotonic() < deadline:
                text = reply_text(page)
                if text and (not lengths or len(text) != lengths[-1]):
                    lengths.append(len(text))
                    questions_shown.add(page.locator(".course-chat-history .course-msg-user").count())
                    if not mid_stream_shot and len(lengths) >= 3:
                        shot(page, "02-chat-streaming")
                        mid_stream_shot = True
                if text.startswith("[offline]") and page.locator(".course-chat-history").inner_text().count("▌") == 0:
                    break
                time.sleep(0.05)
            final = reply_text(page)
            assert final.startswith("[offline]"), f"no offline reply appeared; got {final!r}"
            assert "long reply for testing streaming" in final
            assert len(lengths) >= 3 and lengths == sorted(lengths), (
                f"the reply did not arrive incrementally: lengths seen {lengths}")
            assert questions_shown == {1}, f"the question was shown {questions_shown} times while streaming"
            assert page.locator(".course-chat-history .course-msg-user").last.inner_text().endswith(
                "Give me a long answer, please")
            assert "1 call ·" in page.locator(".course-chat-usage").inner_text()
            assert box.input_value() == ""

            # Enter sends too, and the history goes with it
            box.fill("What is a token?")
            box.press("Enter")
            page.locator(".course-chat-history .course-msg-assistant").nth(1).wait_for()
            page.wait_for_function("() => !document.querySelector('.course-chat-history').innerText.includes('▌')")
            assert reply_text(page).startswith("[offline]") and "token" in reply_text(page).lower()
            assert page.locator(".course-chat-history .course-msg-user").count() == 2
            assert "2 calls ·" in page.locator(".course-chat-usage").inner_text()
            page.locator(".course-chat-history").scroll_into_view_if_needed()
            shot(page, "03-chat-reply")

            # -- tokenizer playground: the Korean preset
            page.locator("button.course-preset", has_text="Korean").click()
            cl100k = page.locator('.course-token-count[data-encoding="cl100k_base"]')
            o200k = page.locator('.course-token-count[data-encoding="o200k_base"]')
            page.wait_for_function(
                "() => document.querySelector('.course-token-count[data-encoding=\"cl100k_base\"]')"
                "?.textContent === '13'")
            assert (cl100k.inner_text(), o200k.inner_text()) == ("13", "10")
            assert page.locator(".course-tokenizer-input textarea").input_value() == "아버지가 방에 들어가신다."
            page.locator(".course-tokenizer-output").scroll_into_view_if_needed()
            shot(page, "04-tokenizer-korean")

            # -- cost calculator: its default numbers (1,000 in + 500 out tokens, 1,000 calls/day)
            month = page.locator('.course-cost-result .course-cost[data-row="per-month"]')
            month.scroll_into_view_if_needed()
            assert month.inner_text() == "$13.50"
            shot(page, "05-cost-calculator")
        except Exception:
            try:
                shot(page, "99-failure")
            except Exception as error:  # keep the original failure
                print(f"no failure screenshot: {error}")
            raise
        finally:
            browser.close()
    print(f"browser part: {time.monotonic() - started:.1f} s")  # shown with pytest -s
