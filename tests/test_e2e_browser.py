"""End to end: the lessons and their widgets in a real JupyterLab, driven by a headless Chromium.

Starts one JupyterLab for the module on 127.0.0.1 (a free port, a random token, throw-away
config, runtime and data folders, the offline model with a small delay between streamed
chunks) whose root is a temporary folder holding copies of every lesson, English and Korean
(``ko/``), without their outputs, and a small notebook of the three widgets. The tests share
one page, as a learner keeps one JupyterLab tab: each opens its notebooks with JupyterLab's own
open command and closes them when it ends. Then, as a learner would:

- runs all cells of lessons 03 and 04: Run All must finish without asking for input();
- in lesson 05, clicks the tokenizer playground's presets and checks the Korean sentence's
  counts (13 tokens in cl100k_base, 10 in o200k_base), and sees the tokens chart;
- in lesson 06, checks that the price table renders as an HTML table (no dollar pair turned
  into LaTeX math anywhere in the lesson) and the cost calculator's figures, won included;
- in the widgets notebook, watches a reply stream into the chat widget, then clicks Stop
  half way through another and checks that it stops at once, stays out of the history, shows
  what was billed and names the variable that holds the widget;
- at 800 px wide, checks that no widget overflows its cell and the controls keep their size;
- runs all of the Korean lesson ko/03: Hangul is drawn with real glyphs (no "tofu" boxes) in
  the prose, the code, the outputs and the chat widget, whose labels are the Korean ones of
  helpers/widgets/chat.py and which streams a Korean [offline] reply to a Korean message;
  at 800 px the Korean widget fits its cell too;

Every lesson at 800 px with the file browser open is tests/test_e2e_layout.py, a file of its
own so that the two run side by side (each with its own JupyterLab), and tests/test_hub.py
uses this file's helpers.

The repository's notebooks are never modified. The server is stopped at the end, pass or
fail. Screenshots at 1280 and 800 px go to artifacts/e2e/ (NN-name-failure.png when a test
fails).

Uses the operating system's Chromium (Debian: apt-get install chromium fonts-noto-cjk),
never a browser downloaded by Playwright. Skipped when Chromium or Playwright is missing.
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import tiktoken

from helpers.models import DEFAULT_MODEL, lesson_models
from helpers.pricing import estimate_cost, monthly_cost
from helpers.widgets import KRW_RATE, format_krw
from helpers.widgets.chat import TEXT as CHAT_TEXT
from helpers.widgets.cost import TEXT as COST_TEXT
from tools.offline_env import apply

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
KO_LESSONS = sorted(p.name for p in (NOTEBOOKS / "ko").glob("[0-9][0-9]_*.ipynb"))
CHAT = "03_multi_turn_chat.ipynb"
STREAMING = "04_streaming.ipynb"
TOKENS = "05_tokens.ipynb"
COST = "06_cost.ipynb"
KO_CHAT = f"ko/{CHAT}"  # the Korean lesson this test runs
WIDGETS = "widgets_e2e.ipynb"  # written by the fixture: the three widgets, a slow chat stream to stop
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
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
RUN_ALL_TIMEOUT = 90  # seconds for one lesson's Run All (about 10 s for lesson 03 here)
# Seconds before each streamed chunk, in every stream of the kernel: a Korean reply of 94
# pieces still grows visibly in the chat widget (about half a second), and lessons 03 and 04
# run all their streams in a few seconds.
OFFLINE_DELAY = "0.005"
WIDE, NARROW = 1280, 800  # a desktop and a laptop; JupyterLab opens with its file browser shown
KOREAN = "아버지가 방에 들어가신다."  # the playground's Korean preset, from lesson 05 section 3
SHORT = "What is streaming?"  # a reply of 13 pieces
LONG = "Give me a long answer, please"  # the offline model's longest reply: 79 pieces
KOREAN_LONG = "스트리밍이 뭐야? 길게 설명해 줘."  # a long Korean reply, in many pieces
HANGUL = re.compile("[\uac00-\ud7a3]")  # the precomposed syllables
CHAT_VARIABLE = "slow_chat"  # the Stop notice names the variable that holds the widget
WIDGET_CELLS = [
    "from helpers import OfflineAPI, offline_client\n"
    "from helpers.widgets import chat_widget, cost_calculator, tokenizer_playground",
    # Slower than the lessons' streams, so that Stop lands half way through a reply. Kept in a
    # variable, as the lessons do.
    f"{CHAT_VARIABLE} = chat_widget(offline_client(OfflineAPI(seed=0, chunk_delay=0.08)))\n{CHAT_VARIABLE}",
    "playground = tokenizer_playground()\nplayground",
    "calculator = cost_calculator()\ncalculator",
]


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
            if (
                session.get("path") == name
                and kernel.get("connections", 0) >= 1
                and kernel.get("execution_state") == "idle"
            ):
                return
        time.sleep(0.2)
    pytest.fail(f"the kernel of {name} did not start within {timeout:.0f} s:\n{lab.log_tail()}")


def copy_lesson(name: str, folder: Path) -> None:
    """notebooks/``name`` (``ko/...`` for a Korean one) into ``folder`` without its stored
    outputs: what the page then shows comes from this run only."""
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


def code_cells(name: str, folder: Path = NOTEBOOKS) -> int:
    nb = json.loads((folder / name).read_text(encoding="utf-8"))
    return sum(cell["cell_type"] == "code" for cell in nb["cells"])


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


def api_delete_sessions(lab: Lab, paths: set[str]) -> None:
    """Shut down the kernels of the notebooks at ``paths`` (opened only to be looked at)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for session in api_get(lab.url, lab.token, "api/sessions") or []:
        if session.get("path") in paths:
            request = urllib.request.Request(
                f"{lab.url}api/sessions/{session['id']}",
                method="DELETE",
                headers={"Authorization": f"token {lab.token}"},
            )
            try:
                opener.open(request, timeout=10).close()
            except (urllib.error.URLError, OSError):
                pass  # the server stops them at the end in any case


def write_widgets_notebook(folder: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in WIDGET_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / WIDGETS)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """A JupyterLab server on a free port, always stopped and cleaned up afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="course-e2e-"))
    process = None
    log_file = None
    try:
        root = tmp / "notebooks"
        root.mkdir()
        for name in [*LESSONS, *(f"ko/{name}" for name in KO_LESSONS)]:
            copy_lesson(name, root)
        write_widgets_notebook(root)
        env = dict(os.environ)
        apply(env)  # offline, no real key, fixed seed
        env.update(
            {
                "COURSE_OFFLINE_DELAY": OFFLINE_DELAY,  # visibly incremental streams
                "JUPYTER_CONFIG_DIR": str(tmp / "config"),
                "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
                # User-level data only: the widgets' lab extension is in sys.prefix/share/jupyter.
                "JUPYTER_DATA_DIR": str(tmp / "data"),
                "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
                "IPYTHONDIR": str(tmp / "ipython"),
            }
        )
        # No "get notified about Jupyter news?" toast over the page.
        settings = tmp / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8"
        )
        port, token = free_port(), secrets.token_hex(16)
        log = tmp / "server.log"
        log_file = log.open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--ServerApp.root_dir={root}",
                f"--IdentityProvider.token={token}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",  # no PyPI look-ups
                "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: Session.show() opens notebooks
                *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            ],
            cwd=root,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=os.name != "nt",
        )
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
    # Two frames first: a cell just scrolled into view is painted (content-visibility) by then.
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def notebook_tab(page: Page, path: str) -> Locator:
    """The main area's tab of the notebook at ``path`` (a tab shows the file's name only)."""
    label = page.locator(".lm-TabBar-tabLabel", has_text=re.compile(f"^{re.escape(Path(path).name)}$"))
    return page.locator("#jp-main-dock-panel .lm-TabBar-tab").filter(has=label)


def notebook_panel(page: Page, path: str) -> Locator:
    """The open notebook at ``path``: its tab in the main area names the panel's id."""
    tab = notebook_tab(page, path)
    tab.wait_for()
    panel = page.locator(f'[id="{tab.get_attribute("data-id")}"]')
    panel.locator(".jp-Cell").first.wait_for()
    return panel


def file_browser_item(page: Page, name: str) -> Locator:
    text = page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{re.escape(name)}$"))
    return page.locator("#filebrowser .jp-DirListing-item").filter(has=text)


def open_from_file_browser(page: Page, path: str) -> Locator:
    """Open the notebook at ``path`` as a learner does: a double click in the file browser,
    which shows the folder the notebook is in."""
    file_browser_item(page, Path(path).name).dblclick()
    panel = notebook_panel(page, path)
    # JupyterLab adds the cells of a long notebook in several steps: wait for all of them.
    page.wait_for_function(
        "([panel, n]) => panel.querySelectorAll('.jp-CodeCell').length === n",
        arg=[panel.element_handle(), code_cells(path)],
    )
    return panel


def close_notebook(page: Page, path: str) -> None:
    """Close the notebook's tab without saving anything (it was only looked at)."""
    tab = notebook_tab(page, path)
    tab.locator(".lm-TabBar-tabCloseIcon").click()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while tab.count() and time.monotonic() < deadline:
        discard = page.locator(".jp-Dialog").get_by_role("button", name="Discard")
        if discard.count():  # "Save your work?": the kernel may have updated the metadata
            discard.click()
        time.sleep(0.05)
    expect(tab).to_have_count(0)


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


def dollars(text: str) -> tuple[float, float]:
    """A figure such as "$13.50" as (13.5, half a unit of its last decimal)."""
    match = re.fullmatch(r"\$([\d,]+(?:\.(\d+))?)", text.strip())
    assert match, f"not a dollar figure: {text!r}"
    return float(match.group(1).replace(",", "")), 0.5 * 10 ** -len(match.group(2) or "")


def won(text: str) -> float:
    match = re.fullmatch(r"₩([\d,]+(?:\.\d+)?)", text.strip())
    assert match, f"not a won figure: {text!r}"
    return float(match.group(1).replace(",", ""))


# Every element of a widget that sticks out of its cell's output area (to the right), or any
# output area that scrolls sideways: what a learner would find cut off.
OVERFLOW_JS = """output => {
    const box = output.getBoundingClientRect();
    const out = [];
    if (output.scrollWidth > output.clientWidth + 1)
        out.push(`output scrolls: ${output.scrollWidth} > ${output.clientWidth}`);
    for (const el of output.querySelectorAll('.jupyter-widgets, button, input, textarea, select, table')) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1))
            out.push(`${el.className || el.tagName} spans ${Math.round(r.left)}..${Math.round(r.right)}`
                     + ` in ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
    return out;
}"""
# Elements JupyterLab's renderers create for LaTeX math (MathJax 3 and 2, KaTeX).
MATH_SELECTOR = "mjx-container, .MathJax, .MathJax_Display, .katex"


SHOTS = "0[1-7]-*.png"  # this file's screenshots; tests/test_e2e_layout.py takes 08-*


@pytest.fixture(scope="module")
def browser(request):
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(request.module.SHOTS):  # no screenshot left over from an earlier run
            old.unlink()
        try:
            yield chromium
        finally:
            chromium.close()


# Draws Hangul syllables of ``sample`` in the element's own font on a canvas, next to a
# character no font has (U+10FFFD): without a Korean font, a syllable is the same "tofu"
# box as that character, pixel for pixel; with one, it is a glyph of its own.
GLYPH_JS = """(el, sample) => {
    const style = getComputedStyle(el);
    const font = `${style.fontStyle} ${style.fontWeight} 32px ${style.fontFamily}`;
    const draw = text => {
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 48;
        const ctx = canvas.getContext('2d');
        ctx.font = font;
        ctx.textBaseline = 'top';
        ctx.fillText(text, 4, 4);
        return Array.from(ctx.getImageData(0, 0, 48, 48).data.filter((_, i) => i % 4 === 3));
    };
    const missing = draw('\\u{10FFFD}');
    const syllables = [...new Set(sample.match(/[\\uac00-\\ud7a3]/g) || [])].slice(0, 3);
    return {font: style.fontFamily, drawn: syllables.map(s => {
        const pixels = draw(s);
        return {syllable: s, ink: pixels.some(v => v > 0), tofu: pixels.every((v, i) => v === missing[i])};
    })};
}"""


class Session:
    """One page of the module's JupyterLab, in a workspace of its own (so it restores no
    notebook another page opened); a screenshot when the test fails."""

    def __init__(self, browser, lab: Lab, name: str, width: int = WIDE) -> None:
        self.lab, self.name = lab, name
        self.page = browser.new_page(viewport={"width": width, "height": 1100})
        self.page.set_default_timeout(TIMEOUT_MS)
        self.opened: list[str] = []  # notebooks show() opened, closed again by test()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if kind is not None:
                shot(self.page, f"{self.name}-failure")
        except Exception as problem:  # keep the original failure
            print(f"no failure screenshot: {problem}")
        finally:
            self.page.close()

    def open(self, notebook: str = "") -> None:
        """JupyterLab, showing ``notebook`` if one is named (else the file browser alone)."""
        tree = f"/tree/{notebook}" if notebook else ""
        self.page.goto(f"{self.lab.url}lab/workspaces/{self.name}{tree}?token={self.lab.token}")

    def show(self, notebook: str) -> Locator:
        """Open ``notebook`` in the JupyterLab already on the page (JupyterLab's own open command,
        as a double click in the file browser runs it), with all its cells."""
        self.page.evaluate(
            "async path => { await window.jupyterapp.commands.execute('docmanager:open', {path}); }", notebook
        )
        self.opened.append(notebook)
        panel = notebook_panel(self.page, notebook)
        self.page.wait_for_function(
            "([panel, n]) => panel.querySelectorAll('.jp-CodeCell').length === n",
            arg=[panel.element_handle(), code_cells(notebook, self.lab.root)],
        )
        return panel

    def run_all(self, notebook: str) -> Locator:
        """Open ``notebook``, run all its cells and wait until every one has run."""
        panel = self.show(notebook)
        wait_for_kernel(self.lab, notebook)
        run_all_cells(self.page)
        wait_until_all_ran(panel)
        return panel

    @contextmanager
    def test(self, name: str, width: int = WIDE) -> Iterator[Session]:
        """One test's turn on the page: at ``width`` px; ``name``-failure.png if it fails; the
        notebooks it opened closed when it ends (their kernels keep running, as in JupyterLab)."""
        self.page.set_viewport_size({"width": width, "height": 1100})
        try:
            yield self
        except BaseException:
            try:
                shot(self.page, f"{name}-failure")
            except Exception as problem:  # keep the original failure
                print(f"no failure screenshot: {problem}")
            raise
        finally:
            while self.opened:
                close_notebook(self.page, self.opened.pop())


@pytest.fixture(scope="module")
def learner(browser, lab: Lab) -> Iterator[Session]:
    """One JupyterLab page for the module's tests, as a learner keeps one tab: JupyterLab takes
    seconds to load into a page, a notebook a fraction of one to open in it."""
    s = Session(browser, lab, "learner")
    try:
        s.open()
        expect(s.page.locator("#filebrowser")).to_be_visible()
        s.page.wait_for_function("() => window.jupyterapp !== undefined")
        yield s
    finally:
        s.page.close()


def widget_output(panel: Locator, css: str) -> Locator:
    """The output area that holds the widget with the class ``css``."""
    return panel.locator(".jp-OutputArea-output").filter(has=panel.page.locator(css))


def assistant_texts(panel: Locator) -> list[str]:
    return [
        t.replace("▌", "").strip()
        for t in panel.locator(".course-chat-history .course-msg-assistant .course-msg-text").all_text_contents()
    ]


def watch_reply(panel: Locator, replies: int, timeout: float = 30) -> tuple[str, list[int]]:
    """Until the chat widget's reply number ``replies`` is complete: its text, and the lengths
    it was seen at while it streamed in."""
    history = panel.locator(".course-chat-history")
    lengths: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = assistant_texts(panel)
        if len(texts) == replies:
            if not lengths or len(texts[-1]) != lengths[-1]:
                lengths.append(len(texts[-1]))
            if "▌" not in history.text_content():  # done: read the reply again, it may have grown since
                return assistant_texts(panel)[-1], lengths
        time.sleep(0.03)
    pytest.fail(f"reply {replies} did not complete within {timeout:.0f} s: {assistant_texts(panel)}")


def wait_for_no_overflow(output: Locator, timeout: float = 5) -> list[str]:
    """OVERFLOW_JS once the page has laid the output out again (after a resize): [] if it fits."""
    deadline = time.monotonic() + timeout
    problems = output.evaluate(OVERFLOW_JS)
    while problems and time.monotonic() < deadline:
        time.sleep(0.1)
        problems = output.evaluate(OVERFLOW_JS)
    return problems


def assert_hangul_drawn(target: Locator, what: str) -> None:
    """``target`` shows Hangul drawn with glyphs, not tofu boxes, in the font it uses."""
    target.scroll_into_view_if_needed()
    text = target.text_content() or ""
    result = target.evaluate(GLYPH_JS, text)
    assert result["drawn"], f"{what}: no Hangul syllable in {text[:80]!r}"
    tofu = [d["syllable"] for d in result["drawn"] if d["tofu"] or not d["ink"]]
    assert not tofu, (
        f"{what}: {''.join(tofu)} drawn as tofu boxes in {result['font']}: no font with Hangul "
        "(Debian: apt-get install fonts-noto-cjk)"
    )


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("notebook", [CHAT, STREAMING])
def test_run_all_finishes_without_asking_for_input(learner: Session, notebook: str) -> None:
    with learner.test(f"01-run-all-{notebook[:2]}") as s:
        s.run_all(notebook)  # fails at once if a cell waits for input() or raises


def test_tokens_lesson_playground_and_chart(learner: Session) -> None:
    with learner.test("02-tokens") as s:
        lesson = s.run_all(TOKENS)
        # The chart of tokens and cost per language: an image, not the text fallback.
        chart = lesson.locator(".jp-OutputArea-output img")
        expect(chart).to_have_count(1)
        assert chart.evaluate("img => img.naturalWidth") > 500

        # Tokenizer playground: it starts on the Korean sentence, so switch to English first,
        # then back with the Korean preset. (A click goes to the kernel and back: expect() waits.)
        field = lesson.locator(".course-tokenizer-input textarea")
        count = {e: lesson.locator(f'.course-token-count[data-encoding="{e}"]') for e in ("cl100k_base", "o200k_base")}
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
        shot(s.page, "02-tokenizer-korean")


def test_cost_lesson_price_table_and_calculator(learner: Session) -> None:
    with learner.test("03-cost") as s:
        lesson = s.run_all(COST)
        # The price table is an HTML table with a row per lesson model, its prices shown as dollars.
        table = lesson.locator(".jp-OutputArea-output.jp-RenderedMarkdown table").first
        table.scroll_into_view_if_needed()
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(len(lesson_models()))
        first = rows.first.locator("td").all_text_contents()
        assert first[0] == lesson_models()[0] and re.fullmatch(r"\$\d+\.\d{2,3}", first[1]), first
        # Nowhere in the lesson (cells or outputs) did a pair of dollars become LaTeX math.
        # Markdown cells render when they scroll into view: show them all first.
        for cell in lesson.locator(".jp-MarkdownCell:visible").all():  # collapsed Solutions stay hidden
            cell.scroll_into_view_if_needed()
        assert lesson.locator(MATH_SELECTOR).count() == 0, "dollars rendered as math"
        table.scroll_into_view_if_needed()
        shot(s.page, "03-price-table")

        # Cost calculator: its default inputs, priced by helpers.pricing, and the month in won.
        calculator = widget_output(lesson, ".course-cost-result")
        calculator.scroll_into_view_if_needed()
        en = COST_TEXT["en"]
        model = calculator.get_by_label(en["model"], exact=True).input_value()
        tokens_in, tokens_out, calls = (
            int(calculator.get_by_label(en[key], exact=True).input_value())
            for key in ("input_tokens", "output_tokens", "calls_per_day")
        )
        assert (model, tokens_in, tokens_out, calls) == (DEFAULT_MODEL, 1_000, 500, 1_000)
        per_call = estimate_cost(model, tokens_in, tokens_out)
        expected = {
            "per-call": per_call,
            "per-day": monthly_cost(per_call, calls, days=1),
            "per-month": monthly_cost(per_call, calls),
        }  # 30 days
        for row, value in expected.items():
            shown, tolerance = dollars(calculator.locator(f'.course-cost[data-row="{row}"]').text_content())
            assert abs(shown - value) <= tolerance + 1e-12, f"{row}: shown ${shown}, helpers.pricing says ${value}"
        in_won = calculator.locator('.course-cost[data-row="per-month-in-won"]').text_content()
        assert in_won == format_krw(KRW_RATE.krw(expected["per-month"]))
        assert abs(won(in_won) - expected["per-month"] * KRW_RATE.krw_per_usd) <= 0.5
        assert KRW_RATE.date in calculator.text_content()
        shot(s.page, "04-cost-calculator")


def test_chat_widget_streams_and_stop_stops_a_reply(learner: Session) -> None:
    with learner.test("05-chat") as s:
        panel = s.run_all(WIDGETS)
        history = panel.locator(".course-chat-history")
        box = panel.locator(".course-chat-input input")
        stop = panel.locator("button.course-chat-stop")
        expect(stop).to_be_disabled()  # nothing to stop yet

        # A whole reply, growing piece by piece.
        box.fill(SHORT)
        panel.locator("button.course-chat-send").click()
        final, lengths = watch_reply(panel, replies=1)
        assert final.startswith("[offline]") and "stream" in final
        assert len(lengths) >= 3 and lengths == sorted(lengths), f"the reply did not grow piece by piece: {lengths}"
        expect(stop).to_be_disabled()

        # A long reply: Stop half way through.
        box.fill(LONG)
        panel.locator("button.course-chat-send").click()
        expect(stop).to_be_enabled()
        s.page.wait_for_function(
            """([panel, min]) => { const texts = panel.querySelectorAll('.course-chat-history .course-msg-assistant');
                 return texts.length === 2 && texts[1].textContent.length > min; }""",
            arg=[panel.element_handle(), 40],
        )
        shot(s.page, "05-chat-before-stop")
        stop.click()
        clicked = time.monotonic()
        # At once: the partial reply leaves the page, and the history is the first turn alone.
        s.page.wait_for_function(
            "panel => panel.querySelectorAll('.course-chat-history .course-msg-assistant').length === 1",
            arg=panel.element_handle(),
            timeout=2_000,
        )
        assert time.monotonic() - clicked < 2
        notice = panel.locator(".course-chat-notice")
        expect(notice).to_contain_text("Stopped", timeout=5_000)
        expect(notice).to_contain_text("completion tokens")
        # The widget is kept in a variable: the notice says where the part that arrived is.
        expect(notice).to_contain_text(f"{CHAT_VARIABLE}.conversation.interrupted")
        expect(box).to_have_value(LONG)  # given back, to send again
        expect(stop).to_be_disabled()
        expect(panel.locator(".course-chat-usage")).to_contain_text("2 calls (1 stopped, estimated)")
        shown = history.text_content()
        time.sleep(0.5)  # nothing more of the stopped reply arrives later
        assert history.text_content() == shown and assistant_texts(panel) == [final]
        assert panel.locator(".course-chat-history .course-msg-user").count() == 1
        shot(s.page, "05-chat-stopped")


def test_widgets_fit_at_800_px(learner: Session) -> None:
    with learner.test("06-800px", width=NARROW) as s:
        panel = s.run_all(WIDGETS)
        for css in (".course-chat-history", ".course-tokenizer-output", ".course-cost-result"):
            output = widget_output(panel, css)
            output.scroll_into_view_if_needed()
            problems = output.evaluate(OVERFLOW_JS)
            assert problems == [], f"{css} overflows at 800 px: {problems}"
        # Controls keep a usable size: they wrap onto the next line instead of shrinking.
        slider = panel.locator(".widget-slider").first
        assert slider.bounding_box()["width"] >= 250
        for button in ("send", "stop", "clear"):
            assert panel.locator(f"button.course-chat-{button}").bounding_box()["width"] >= 60
        for key in ("input_tokens", "output_tokens", "calls_per_day"):
            label = COST_TEXT["en"][key]
            field = panel.get_by_label(label, exact=True)
            assert field.bounding_box()["width"] >= 60, f"{label}: its box is squeezed"
        widget_output(panel, ".course-chat-history").scroll_into_view_if_needed()
        shot(s.page, "06-chat-800px")
        widget_output(panel, ".course-tokenizer-output").scroll_into_view_if_needed()
        shot(s.page, "06-tokenizer-800px")
        widget_output(panel, ".course-cost-result").scroll_into_view_if_needed()
        shot(s.page, "06-cost-800px")


def test_korean_lesson_shows_hangul_and_a_korean_chat(learner: Session) -> None:
    ko, en = CHAT_TEXT["ko"], CHAT_TEXT["en"]
    with learner.test("07-korean") as s:
        lesson = s.run_all(KO_CHAT)
        # Hangul in each font the lesson uses: the prose, the code, what the cells print.
        assert_hangul_drawn(lesson.locator(".jp-RenderedMarkdown h1").first, "the title")
        assert_hangul_drawn(lesson.locator(".jp-RenderedMarkdown p", has_text=HANGUL).first, "the prose")
        code = lesson.locator(".jp-CodeCell .jp-InputArea-editor .cm-line", has_text=HANGUL)
        assert_hangul_drawn(code.first, "the code")
        printed = lesson.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]')
        assert_hangul_drawn(printed.filter(has_text=HANGUL).first, "a printed output")
        lesson.locator(".jp-Cell").first.scroll_into_view_if_needed()
        shot(s.page, "07-korean-lesson-top")

        # The chat widget's words are the Korean ones of helpers/widgets/chat.py.
        chat = widget_output(lesson, ".course-chat-history")
        chat.scroll_into_view_if_needed()
        send, stop, clear = (chat.locator(f"button.course-chat-{name}") for name in ("send", "stop", "clear"))
        box = chat.locator(".course-chat-input input")
        expect(send).to_have_text(ko["send"])
        expect(stop).to_have_text(ko["stop"])
        expect(stop).to_have_attribute("title", ko["stop_tooltip"])
        expect(clear).to_have_text(ko["clear"])
        expect(box).to_have_attribute("placeholder", ko["placeholder"])
        expect(chat.locator(".course-chat-header")).to_have_text(ko["header"].format(mode=ko["header_offline"]))
        expect(chat.get_by_label(ko["model"], exact=True)).to_have_value(DEFAULT_MODEL)
        expect(chat.get_by_text(ko["temperature"], exact=True)).to_be_visible()
        expect(chat.locator(".course-chat-empty")).to_have_text(ko["empty"])
        expect(chat.locator(".course-chat-usage")).to_have_text(ko["no_calls"])
        english = [en[key] for key in ("send", "stop", "clear", "model", "temperature") if en[key] in chat.inner_text()]
        assert not english, f"English labels in the Korean chat widget: {english}"
        assert_hangul_drawn(send, "the Send button")
        assert_hangul_drawn(chat.locator(".course-chat-empty"), "the chat's empty history")

        # A Korean message: a Korean [offline] reply streams in, piece by piece.
        box.fill(KOREAN_LONG)
        send.click()
        final, lengths = watch_reply(chat, replies=1)
        assert final.startswith("[offline]"), final
        assert len(HANGUL.findall(final)) > len(final) / 3, f"not a Korean reply: {final[:200]!r}"
        assert len(lengths) >= 3 and lengths == sorted(lengths), f"the reply did not grow piece by piece: {lengths}"
        expect(chat.locator(".course-msg-user .course-msg-text")).to_have_text(KOREAN_LONG)
        expect(chat.locator(".course-msg-user .course-msg-who")).to_have_text(ko["role_user"])
        expect(chat.locator(".course-msg-assistant .course-msg-who")).to_have_text(ko["role_assistant"])
        expect(chat.locator(".course-chat-usage")).to_contain_text(ko["calls"].format(n=1))
        assert_hangul_drawn(chat.locator(".course-msg-assistant .course-msg-text"), "the reply")
        chat.scroll_into_view_if_needed()
        shot(s.page, "07-korean-chat-1280px")

        # On a laptop: the Korean widget fits its cell, its controls keep their size.
        s.page.set_viewport_size({"width": NARROW, "height": 1100})
        chat.scroll_into_view_if_needed()
        problems = wait_for_no_overflow(chat)
        assert problems == [], f"the Korean chat widget overflows at 800 px: {problems}"
        for button in (send, stop, clear):
            assert button.bounding_box()["width"] >= 60
        shot(s.page, "07-korean-chat-800px")
