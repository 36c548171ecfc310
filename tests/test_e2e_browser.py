"""End to end: the lessons' widgets in a real JupyterLab, driven by a headless Chromium.

Starts one JupyterLab on 127.0.0.1 (a free port, a random token, throw-away config,
runtime and data folders, the offline model with a small delay between streamed chunks)
whose root is a temporary folder holding copies of notebooks/03_streaming.ipynb and
notebooks/04_tokens_and_cost.ipynb without their outputs. Then, as a learner would:

- opens lesson 03 and runs all cells. Run All stops at the lesson's live chat loop, whose
  input() waits for a person: the test types a question there, then ``exit``. It then
  types into the chat widget, clicks Send and watches the offline reply stream in;
- opens lesson 04 and runs all cells, clicks the tokenizer playground's presets and checks
  the Korean sentence's counts (13 tokens in cl100k_base, 10 in o200k_base), and checks the
  cost calculator's figures for its default inputs against helpers.pricing.

The repository's notebooks are never modified. The server is stopped at the end, pass or
fail. Screenshots go to artifacts/e2e/ (99-failure.png when a step fails).

Uses the operating system's Chromium (Debian: apt-get install chromium), never a
browser downloaded by Playwright. Skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

import json
import os
import re
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
import tiktoken
from offline_env import apply

from helpers.models import DEFAULT_MODEL
from helpers.pricing import estimate_cost, monthly_cost

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
STREAMING = "03_streaming.ipynb"
TOKENS = "04_tokens_and_cost.ipynb"
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
try:
    from playwright.sync_api import Locator, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)"),
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not found (Debian/Ubuntu: apt-get install chromium)"),
]

TIMEOUT_MS = 30_000
RUN_ALL_TIMEOUT = 60  # seconds for one lesson's Run All (about 10 s for lesson 03 here)
# Seconds before each streamed chunk, in every stream of the kernel: long enough to see a
# reply grow in the chat widget, short enough for lesson 03's other streams (about 5 s more).
OFFLINE_DELAY = "0.02"
KOREAN = "아버지가 방에 들어가신다."  # the playground's Korean preset, from lesson 04 section 3


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT/
    token: str
    root: Path  # the server's root_dir: temporary copies of the lessons
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


def wait_for_kernel(lab: Lab, name: str, timeout: float = 30) -> None:
    """Until the kernel of notebook ``name`` is started, idle and connected to the page.
    (The toolbar says idle before the kernel exists; running cells then would ask for a kernel.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for session in api_get(lab.url, lab.token, "api/sessions") or []:
            kernel = session.get("kernel") or {}
            if (session.get("path") == name and kernel.get("connections", 0) >= 1
                    and kernel.get("execution_state") == "idle"):
                return
        time.sleep(0.2)
    pytest.fail(f"the kernel of {name} did not start within {timeout:.0f} s:\n{lab.log_tail()}")


def copy_lesson(name: str, folder: Path) -> None:
    """notebooks/``name`` into ``folder`` without its stored outputs: what the page then
    shows comes from this run only."""
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (folder / name).write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


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
        for name in (STREAMING, TOKENS):
            copy_lesson(name, root)
        env = dict(os.environ)
        apply(env)  # offline, no real key, fixed seed
        env.update({
            "COURSE_OFFLINE_DELAY": OFFLINE_DELAY,  # visibly incremental streams
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


# ---------------------------------------------------------------- page helpers

def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def notebook_panel(page: Page, name: str) -> Locator:
    """The open notebook ``name``: its tab in the main area names the panel's id."""
    label = page.locator(".lm-TabBar-tabLabel", has_text=re.compile(f"^{re.escape(name)}$"))
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab").filter(has=label)
    tab.wait_for()
    panel = page.locator(f'[id="{tab.get_attribute("data-id")}"]')
    panel.locator(".jp-Cell").first.wait_for()
    return panel


def open_from_file_browser(page: Page, name: str) -> Locator:
    page.locator(".jp-DirListing-item", has_text=name).dblclick()
    return notebook_panel(page, name)


def run_all_cells(page: Page) -> None:
    """Run > Run All Cells, on the notebook in front."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


# Counts the code cells of a panel by their prompt: "[3]:" ran, "[*]:" runs or waits, "[ ]:" not run.
PROMPTS_JS = """panel => {
    const waiting = [...panel.querySelectorAll('.jp-Stdin-input')].filter(box => box.value === '');
    const counts = {done: 0, busy: 0, idle: 0, stdin: waiting.length};  // answered boxes keep their text
    for (const p of panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')) {
        const text = p.textContent;
        if (/\\[\\d+\\]/.test(text)) counts.done++;
        else if (text.includes('*')) counts.busy++;
        else counts.idle++;
    }
    const stderr = panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
    counts.errors = [...stderr].map(e => e.textContent).filter(t => /Error|Traceback/.test(t))
        .map(t => t.slice(0, 500));
    return counts;
}"""


def wait_until_all_ran(panel: Locator, timeout: float = RUN_ALL_TIMEOUT) -> dict:
    """Until every code cell of the panel has run. Fails at once if Run All stopped at an
    error, or if a cell waits for input() that nobody will give."""
    deadline = time.monotonic() + timeout
    counts: dict = {}
    while time.monotonic() < deadline:
        counts = panel.evaluate(PROMPTS_JS)
        if counts["errors"]:
            stderr = panel.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            stderr.filter(has_text=re.compile("Error|Traceback")).first.scroll_into_view_if_needed()  # for the shot
            pytest.fail("a cell failed:\n" + "\n".join(counts["errors"]))
        if counts["stdin"]:
            panel.locator(".jp-Stdin-input").last.scroll_into_view_if_needed()
            pytest.fail("a cell is waiting for input() that this test does not expect")
        if counts["busy"] == 0 and counts["done"] and counts["idle"] == 0:
            return counts
        time.sleep(0.2)
    pytest.fail(f"Run All did not finish within {timeout:.0f} s: {counts}")


def answer_input(panel: Locator, text: str) -> None:
    """Type ``text`` into the input() box a running cell shows, and press Enter.

    JupyterLab leaves an answered box, still holding its answer, on the page until the
    kernel asks for the next line: wait for a single empty box, the new one."""
    panel.page.wait_for_function(
        "panel => { const boxes = panel.querySelectorAll('.jp-Stdin-input');"
        " return boxes.length === 1 && boxes[0].value === ''; }",
        arg=panel.element_handle())
    box = panel.locator(".jp-Stdin-input")
    box.fill(text)
    box.press("Enter")


def reply_text(panel: Locator) -> str:
    """The last assistant message in the chat widget, without the typing cursor."""
    replies = panel.locator(".course-chat-history .course-msg-assistant .course-msg-text")
    if replies.count() == 0:
        return ""
    return replies.last.text_content().replace("▌", "").strip()


def dollars(text: str) -> tuple[float, float]:
    """A figure such as "$13.50" as (13.5, half a unit of its last decimal)."""
    match = re.fullmatch(r"\$([\d,]+(?:\.(\d+))?)", text.strip())
    assert match, f"not a dollar figure: {text!r}"
    return float(match.group(1).replace(",", "")), 0.5 * 10 ** -len(match.group(2) or "")


# ---------------------------------------------------------------- the test

def test_lessons_in_jupyterlab(lab: Lab) -> None:
    started = time.monotonic()
    timings: list[str] = []

    def lap(what: str) -> None:
        timings.append(f"{what} {time.monotonic() - started:.1f} s")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # no screenshot left over from an earlier run
        old.unlink()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            # ---- lesson 03: Run All
            page.goto(f"{lab.url}lab/tree/{STREAMING}?token={lab.token}")
            lesson = notebook_panel(page, STREAMING)
            wait_for_kernel(lab, STREAMING)
            run_all_cells(page)

            # Run All stops at the live chat loop (section 7): its input() waits for a person,
            # and every later cell waits behind it. Ask one question, then leave with "exit".
            live = lesson.locator(".jp-CodeCell", has_text="chat_loop(live_chat)")
            answer_input(lesson, "What is a token?")
            live.locator(".jp-OutputArea", has_text="Assistant: [offline]").wait_for()
            lap("lesson 03 at its live chat")
            answer_input(lesson, "exit")
            live.locator(".jp-OutputArea", has_text="Chat ended.").wait_for()
            live.scroll_into_view_if_needed()
            shot(page, "01-live-chat-answered")
            wait_until_all_ran(lesson)
            lap("lesson 03 ran")

            # ---- lesson 03, section 10: type, Send, and watch the reply stream in
            box = lesson.locator(".course-chat-input input")
            lesson.locator(".course-chat-usage").scroll_into_view_if_needed()  # the chat in view, for the shots
            box.fill("Give me a long answer, please")
            lesson.locator("button.course-chat-send").click()

            lengths: list[int] = []
            questions_shown: set[int] = set()
            deadline = time.monotonic() + 20
            mid_stream_shot = False
            while time.monotonic() < deadline:
                text = reply_text(lesson)
                if text and (not lengths or len(text) != lengths[-1]):
                    lengths.append(len(text))
                    questions_shown.add(lesson.locator(".course-chat-history .course-msg-user").count())
                    if not mid_stream_shot and len(lengths) >= 3:
                        shot(page, "02-chat-streaming")
                        mid_stream_shot = True
                if text.startswith("[offline]") and "▌" not in lesson.locator(".course-chat-history").text_content():
                    break
                time.sleep(0.05)
            final = reply_text(lesson)
            assert final.startswith("[offline]"), f"no offline reply appeared; got {final!r}"
            assert "long reply for testing streaming" in final
            assert len(lengths) >= 3 and lengths == sorted(lengths), (
                f"the reply did not arrive incrementally: lengths seen {lengths}")
            assert questions_shown == {1}, f"the question was shown {questions_shown} times while streaming"
            assert lesson.locator(".course-chat-history .course-msg-user").last.text_content().endswith(
                "Give me a long answer, please")
            assert "1 call ·" in lesson.locator(".course-chat-usage").text_content()
            assert box.input_value() == ""

            # Enter sends too, and the history goes with it
            box.fill("What is a token?")
            box.press("Enter")
            lesson.locator(".course-chat-history .course-msg-assistant").nth(1).wait_for()
            page.wait_for_function(
                "panel => !panel.querySelector('.course-chat-history').textContent.includes('▌')",
                arg=lesson.element_handle())
            assert reply_text(lesson).startswith("[offline]") and "token" in reply_text(lesson).lower()
            assert lesson.locator(".course-chat-history .course-msg-user").count() == 2
            assert "2 calls ·" in lesson.locator(".course-chat-usage").text_content()
            lesson.locator(".course-chat-usage").scroll_into_view_if_needed()
            shot(page, "03-chat-reply")
            lap("lesson 03 chat checked")

            # ---- lesson 04: open it from the file browser, Run All
            lesson = open_from_file_browser(page, TOKENS)
            wait_for_kernel(lab, TOKENS)
            run_all_cells(page)
            wait_until_all_ran(lesson)
            lap("lesson 04 ran")

            # Tokenizer playground (end of section 3): it starts on the Korean sentence, so
            # switch to English first, then back with the Korean preset. (A click goes to the
            # kernel and back: expect() waits for the page to show the result.)
            field = lesson.locator(".course-tokenizer-input textarea")
            count = {e: lesson.locator(f'.course-token-count[data-encoding="{e}"]')
                     for e in ("cl100k_base", "o200k_base")}
            english = lesson.locator("button.course-preset", has_text="English")
            english_text = english.get_attribute("title")  # the preset's tooltip is its text
            assert english_text
            english.click()
            expect(field).to_have_value(english_text)
            for encoding, shown in count.items():  # counted here with tiktoken itself
                expect(shown).to_have_text(str(len(tiktoken.get_encoding(encoding).encode_ordinary(english_text))))
            lesson.locator("button.course-preset", has_text="Korean").click()
            expect(field).to_have_value(KOREAN)
            expect(count["cl100k_base"]).to_have_text("13")
            expect(count["o200k_base"]).to_have_text("10")
            lesson.locator(".course-tokenizer-output").scroll_into_view_if_needed()
            shot(page, "04-tokenizer-korean")

            # Cost calculator (end of section 8): its default inputs, priced by helpers.pricing
            calculator = lesson.locator(".jp-OutputArea-output").filter(has=page.locator(".course-cost-result"))
            calculator.scroll_into_view_if_needed()
            model = calculator.get_by_label("Model", exact=True).input_value()
            tokens_in, tokens_out, calls = (int(calculator.get_by_label(label, exact=True).input_value())
                                            for label in ("Input tokens / call", "Output tokens / call",
                                                          "Calls / day"))
            assert (model, tokens_in, tokens_out, calls) == (DEFAULT_MODEL, 1_000, 500, 1_000)
            per_call = estimate_cost(model, tokens_in, tokens_out)
            expected = {"per-call": per_call, "per-day": monthly_cost(per_call, calls, days=1),
                        "per-month": monthly_cost(per_call, calls)}  # 30 days
            for row, value in expected.items():
                shown, tolerance = dollars(calculator.locator(f'.course-cost[data-row="{row}"]').text_content())
                assert abs(shown - value) <= tolerance + 1e-12, f"{row}: shown ${shown}, helpers.pricing says ${value}"
            shot(page, "05-cost-calculator")
            lap("lesson 04 widgets checked")
        except BaseException:  # pytest.fail() raises a BaseException
            try:
                shot(page, "99-failure")
            except Exception as error:  # keep the original failure
                print(f"no failure screenshot: {error}")
            raise
        finally:
            browser.close()
            print("browser part:", "; ".join(timings))  # shown with pytest -s
