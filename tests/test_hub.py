"""A workshop room on a real JupyterHub: two learners, one nbgitpuller link, lesson 00 each.

Starts JupyterHub (from PyPI) on 127.0.0.1 with configurable-http-proxy (from npm), the
dummy authenticator and SimpleLocalProcessSpawner, configured by tests/hub/jupyterhub_config.py:
offline mode for every learner and a stand-in key per learner, both set by the spawner
environment. Then, through the hub's REST API with an admin service token:

- creates two learners and starts their servers;
- follows the link `tools/hub_link.py` makes, against a git repository on this machine
  that holds the working tree of the course, the way a browser would: the hub's
  user-redirect, nbgitpuller's page, then the pull itself (nbgitpuller's event stream);
- runs lesson 00 in each learner's own server, cell by cell through a kernel of that
  server (so the kernel gets the spawner's environment), and compares every cell nbval
  compares with the outputs stored in the pulled copy;
- checks what each learner's kernel sees: its own key, never the other's, and that a
  learner's token does not open the other learner's server;
- as the other learner, in headless Chromium (tests/test_e2e_browser.py's helpers): logs in
  with the hub's form, follows the link to lesson 05, runs it all in JupyterLab and uses the
  tokenizer playground widget, whose kernel says it is offline;
- runs every lesson in one learner's server while measuring that server's memory and CPU
  (the figures in docs/workshop.md come from here; artifacts/hub/resources.json);
- stops both servers and the hub, and checks that no process is left.

Needs node and configurable-http-proxy: .ci/run installs the proxy with
`npm install --prefix .ci/node configurable-http-proxy`; the test looks for it there, on
PATH, or at $CONFIGURABLE_HTTP_PROXY. Skipped, saying so, when either is missing.
Bounded in time: every wait has a deadline, and every process is stopped at the end.
"""

from __future__ import annotations

import asyncio
import configparser
import http.cookiejar
import importlib.util
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
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import psutil
import pytest

# The browser helpers of the JupyterLab end-to-end tests (tests/ is on sys.path under pytest).
import test_e2e_browser as e2e
from test_course_start import fresh_copy

ROOT = Path(__file__).resolve().parents[1]
HUB_CONFIG = ROOT / "tests" / "hub" / "jupyterhub_config.py"
BIN = Path(sys.executable).parent
LEARNERS = ("ada", "grace")
REPO_NAME = "chat-completions-course"  # the folder nbgitpuller clones into, as on a real hub
LESSON_00 = "notebooks/00_setup.ipynb"
LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ARTIFACTS = ROOT / "artifacts" / "hub"
START_TIMEOUT = 60  # seconds, for the hub and for each learner's server
CELL_TIMEOUT = 60  # seconds, for one cell of a lesson
# docs/workshop.md sizes a room from the figures this test measures: a learner's server with
# every lesson's kernel open must stay under this (unique memory), or the docs need updating.
MAX_LEARNER_MB = 1600  # every lesson's kernel left open: docs/workshop.md states 1.5 GB


def find_proxy() -> str | None:
    """configurable-http-proxy: $CONFIGURABLE_HTTP_PROXY, .ci/node (what .ci/run installs), or PATH."""
    candidates = [
        os.environ.get("CONFIGURABLE_HTTP_PROXY"),
        str(ROOT / ".ci" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"),
        shutil.which("configurable-http-proxy"),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


NODE = shutil.which("node")
PROXY = find_proxy()
pytestmark = [
    pytest.mark.skipif(
        NODE is None,
        reason="node is not installed: configurable-http-proxy, JupyterHub's "
        "proxy, needs Node.js (Debian/Ubuntu: apt-get install nodejs npm)",
    ),
    pytest.mark.skipif(
        PROXY is None,
        reason="configurable-http-proxy not found: install it with "
        "`npm install --prefix .ci/node configurable-http-proxy` (as .ci/run does), or set "
        "CONFIGURABLE_HTTP_PROXY to its path",
    ),
]


def load_hub_link():
    spec = importlib.util.spec_from_file_location("hub_link", ROOT / "tools" / "hub_link.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hub_link = load_hub_link()


# ---------------------------------------------------------------- the link itself (no hub needed)


def test_link_has_nbgitpullers_form():
    link = hub_link.make_link(
        "hub.example.org/hub/", "https://github.com/org/course", "main", "notebooks/04_streaming.ipynb"
    )
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "hub.example.org", "/hub/user-redirect/git-pull")
    assert "/" not in parts.query and ":" not in parts.query  # every value encoded
    assert parse_qs(parts.query) == {
        "repo": ["https://github.com/org/course"],
        "branch": ["main"],
        "urlpath": ["lab/tree/course/notebooks/04_streaming.ipynb"],
    }


def test_link_command_defaults_to_the_course_repository():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "hub_link.py"), "--hub", "https://hub.example.org", "--app", "notebook"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    query = parse_qs(urlsplit(result.stdout.strip()).query)
    assert query["repo"] == [hub_link.course_homepage()] and hub_link.course_homepage().startswith("https://")
    assert query["urlpath"] == [f"notebooks/{hub_link.clone_folder(hub_link.course_homepage())}/{LESSON_00}"]
    bad = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "hub_link.py"), "--hub", "ftp://hub"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "not a hub address" in bad.stderr and "Traceback" not in bad.stderr


# ---------------------------------------------------------------- the single-user environment from binder/


def requirement_names(path: Path) -> set[str]:
    """Package names a requirements file installs, following -r includes."""
    names = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= requirement_names(path.parent / line[3:].strip())
        elif line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~\[ ;@]", line, maxsplit=1)[0].lower())
    return names


def test_link_command_opens_the_korean_track_with_lang_ko(capsys):
    assert hub_link.main(["--hub", "https://hub.example.org", "--lang", "ko"]) == 0
    query = parse_qs(urlsplit(capsys.readouterr().out.strip()).query)
    folder = hub_link.clone_folder(hub_link.course_homepage())
    assert query["urlpath"] == [f"lab/tree/{folder}/notebooks/ko/00_setup.ipynb"]
    assert (ROOT / "notebooks" / "ko" / "00_setup.ipynb").is_file()


def test_the_hub_image_from_binder_has_what_the_room_needs():
    """A hub's single-user image built from binder/ by repo2docker: the course (-e .), JupyterLab
    and nbgitpuller for the link. Token counting needs no internet there either: the course ships
    its encodings (helpers/_encodings; tests/test_offline_encodings.py)."""
    binder = ROOT / "binder"
    names = requirement_names(binder / "requirements.txt")
    assert {"jupyterlab", "tiktoken", "ipywidgets"} <= names
    assert "nbgitpuller" in names, (
        "binder/requirements.txt must install nbgitpuller: the hub's link "
        "(python3 course.py hub-link) needs it in the single-user image"
    )


# ---------------------------------------------------------------- a real hub


@dataclass
class Hub:
    url: str  # http://127.0.0.1:PORT (the proxy: what learners use)
    admin_token: str = field(repr=False)
    process: subprocess.Popen
    homes: Path
    repo_url: str  # file:// URL of the course's git repository
    keys: dict[str, str] = field(repr=False)  # the learners' stand-in keys: never in a report
    log: Path
    tokens: dict[str, str] = field(default_factory=dict, repr=False)  # each learner's own API token

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no hub log)"
        for key in self.keys.values():  # the stand-in keys stay out of test reports too
            text = text.replace(key, "sk-***")
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect comes back as an HTTPError with its Location


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)  # never through a proxy


def call(
    url: str, token: str, method: str = "GET", body: dict | None = None, timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request with a token; (status, headers, body), redirects not followed."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"token {token}"})
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
    except (urllib.error.URLError, OSError) as error:  # not listening (yet), reset, timed out
        return 0, {}, str(error).encode()


def api(hub: Hub, method: str, path: str, body: dict | None = None, ok=(200, 201, 202, 204)):
    # Starting a server answers after it is up, or with 202 after the hub's slow_spawn_timeout (10 s).
    status, _, data = call(f"{hub.url}/hub/api/{path}", hub.admin_token, method, body, timeout=30)
    assert status in ok, f"{method} /hub/api/{path}: HTTP {status} {data[:300]!r}\n{hub.log_tail()}"
    return json.loads(data) if data else None


def wait(predicate, timeout: float, what: str, hub: Hub | None = None, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"{what} within {timeout:.0f} s" + (f":\n{hub.log_tail()}" if hub else ""))


def snapshot_repository(target: Path) -> None:
    """A git repository at ``target`` holding the course's working tree as one commit on main:
    what the test checks is what is on disk now, committed or not."""
    fresh_copy(target)
    git = ["git", "-c", "user.name=course test", "-c", "user.email=test@example.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "course snapshot"]):
        subprocess.run([*git, *args], cwd=target, check=True, capture_output=True, timeout=60)


def tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def stop_everything(process: subprocess.Popen, extra: list[psutil.Process]) -> None:
    """SIGTERM the hub, then SIGKILL whatever it started that is still there."""
    known = tree(psutil.Process(process.pid)) if process.poll() is None else []
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    for p in [*known, *extra]:
        try:
            p.kill()
        except psutil.Error:
            pass


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    for module in ("jupyterhub", "nbgitpuller"):
        if importlib.util.find_spec(module) is None:
            pytest.fail(
                f"{module} is not installed: install the test tools with "
                "`.venv/bin/pip install -r requirements-dev.txt`"
            )
    tmp = Path(tempfile.mkdtemp(prefix="course-hub-"))
    process = None
    log_file = None
    servers: list[psutil.Process] = []
    try:
        served = tmp / "served" / REPO_NAME
        served.mkdir(parents=True)
        snapshot_repository(served)
        (tmp / "state").mkdir()
        settings = {
            "port": free_port(),
            "hub_port": free_port(),
            "proxy_api_port": free_port(),
            "proxy": PROXY,
            "singleuser": str(BIN / "jupyterhub-singleuser"),
            "state_dir": str(tmp / "state"),
            "homes": str(tmp / "home"),
            "learners": list(LEARNERS),
            "admin_token": secrets.token_hex(32),
            "learner_keys": {name: f"sk-room-{name}-{secrets.token_hex(12)}" for name in LEARNERS},
        }
        settings_file = tmp / "state" / "settings.json"
        settings_file.write_text(json.dumps(settings), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "COURSE_", "JUPYTER"))}
        env.update(COURSE_HUB_SETTINGS=str(settings_file), PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]))
        log = tmp / "hub.log"
        log_file = log.open("wb")
        process = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(HUB_CONFIG)],
            cwd=tmp / "state",
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        hub = Hub(
            f"http://127.0.0.1:{settings['port']}",
            settings["admin_token"],
            process,
            tmp / "home",
            served.as_uri(),
            settings["learner_keys"],
            log,
        )

        def answers() -> bool:
            if process.poll() is not None:
                pytest.fail(f"JupyterHub exited with code {process.returncode}:\n{hub.log_tail()}")
            return call(f"{hub.url}/hub/api/", hub.admin_token, timeout=2)[0] == 200

        wait(answers, START_TIMEOUT, "JupyterHub (through its proxy) did not answer", hub)
        api(hub, "POST", "users", {"usernames": list(LEARNERS)})
        for name in LEARNERS:
            api(hub, "POST", f"users/{name}/server")
        for name in LEARNERS:
            wait(
                lambda name=name: (api(hub, "GET", f"users/{name}")["servers"].get("") or {}).get("ready"),
                START_TIMEOUT,
                f"{name}'s server did not start",
                hub,
            )
            hub.tokens[name] = api(hub, "POST", f"users/{name}/tokens", {"note": "course test", "expires_in": 900})[
                "token"
            ]
        servers.extend(p for p in psutil.Process(process.pid).children(recursive=True))
        yield hub
    finally:
        if process is not None:
            stop_everything(process, servers)
        if log_file is not None:
            log_file.close()
        shutil.rmtree(tmp, ignore_errors=True)


def server_process(hub: Hub, name: str) -> psutil.Process:
    """The learner's single-user server: a child of the hub started in the learner's home."""
    home = str(hub.homes / name)
    for child in psutil.Process(hub.process.pid).children():
        try:
            if child.cwd() == home and any("jupyterhub-singleuser" in part for part in child.cmdline()):
                return child
        except psutil.Error:
            continue
    pytest.fail(f"no single-user server process for {name}")


# ---------------------------------------------------------------- following the link


class Browser:
    """A learner's browser, minus the rendering: cookies, redirects followed and remembered."""

    def __init__(self) -> None:
        self.visited: list[str] = []
        browser = self

        class Remember(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, req, fp, code, msg, headers, newurl):
                browser.visited.append(newurl)
                return super().redirect_request(req, fp, code, msg, headers, newurl)

        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), Remember, urllib.request.HTTPCookieProcessor(self.jar)
        )

    def open(self, url: str, form: dict | None = None, timeout: float = 30):
        data = urlencode(form).encode() if form is not None else None
        self.visited.append(url)
        return self.opener.open(urllib.request.Request(url, data=data), timeout=timeout)

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)


def log_in(hub: Hub, name: str) -> Browser:
    """The hub's login form, as a learner fills it in (the dummy authenticator takes any password)."""
    browser = Browser()
    with browser.open(f"{hub.url}/hub/login") as page:
        assert page.status == 200
    with browser.open(
        f"{hub.url}/hub/login", {"username": name, "password": "any", "_xsrf": browser.cookie("_xsrf")}
    ) as page:
        assert page.status == 200 and urlsplit(page.url).path.startswith(("/hub/", f"/user/{name}/"))
    return browser


def follow_link(hub: Hub, name: str) -> str:
    """What a browser does with the link: the hub sends the learner to their own server's
    nbgitpuller page, whose script pulls through the event stream and then opens ``urlpath``.
    Returns that path."""
    browser = log_in(hub, name)
    link = hub_link.make_link(hub.url, hub.repo_url, "main", LESSON_00)
    browser.visited.clear()
    with browser.open(link) as response:
        page_text = response.read().decode()
        landed = urlsplit(response.url)
    assert landed.path == f"/user/{name}/git-pull", f"the link led to {response.url} via {browser.visited}"
    assert parse_qs(landed.query)["repo"] == [hub.repo_url]
    data = {k: urllib.request.unquote(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', page_text)}
    assert data["repo"] == hub.repo_url and data["targetpath"] == REPO_NAME and data["branch"] == "main"

    # nbgitpuller's script: GET git-pull/api with the same values, read its event stream.
    query = urlencode(
        {"_xsrf": data["xsrf"], "repo": data["repo"], "targetpath": data["targetpath"], "branch": data["branch"]},
        quote_via=quote,
    )
    events = []
    with browser.open(f"{hub.url}/user/{name}/git-pull/api?{query}", timeout=60) as stream:
        for line in stream:
            if line.startswith(b"data: "):
                events.append(json.loads(line[6:]))
                if events[-1].get("phase") in ("finished", "error"):
                    break
    assert events and events[-1].get("phase") == "finished", f"the pull did not finish: {events[-1:]}"
    path = data["path"]
    assert path == f"lab/tree/{REPO_NAME}/{LESSON_00}"
    with browser.open(f"{hub.url}/user/{name}/{path}") as lab:
        assert lab.status == 200 and urlsplit(lab.url).path == f"/user/{name}/{path}"
    return path


# ---------------------------------------------------------------- running a lesson in a learner's server


def sanitizers() -> list[tuple[re.Pattern, str]]:
    """tests/nbval_sanitize.cfg, as nbval applies it."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


SANITIZE = sanitizers()


def comparable(outputs: list[dict]) -> list[tuple[str, str]]:
    """What nbval compares in a cell's outputs: streams joined per name, text/plain of results,
    errors by name; after tests/nbval_sanitize.cfg."""
    found: list[tuple[str, str]] = []
    for out in outputs:
        kind = out["output_type"]
        if kind == "stream":
            text = "".join(out["text"])
            if found and found[-1][0] == f"stream:{out['name']}":
                found[-1] = (found[-1][0], found[-1][1] + text)
            else:
                found.append((f"stream:{out['name']}", text))
        elif kind in ("execute_result", "display_data"):
            plain = out.get("data", {}).get("text/plain")
            found.append((kind, "".join(plain) if plain is not None else ""))
        elif kind == "error":
            found.append(("error", out["ename"]))
    result = []
    for kind, text in found:
        for pattern, replacement in SANITIZE:
            text = pattern.sub(replacement, text)
        result.append((kind, text))
    return result


async def run_cells(ws_url: str, token: str, sources: list[str]) -> list[list[dict]]:
    """Execute ``sources`` one by one in a kernel over Jupyter's websocket; each cell's outputs."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    connection = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}))
    session = uuid.uuid4().hex
    results = []
    try:
        for source in sources:
            msg_id = uuid.uuid4().hex
            await connection.write_message(
                json.dumps(
                    {
                        "header": {
                            "msg_id": msg_id,
                            "msg_type": "execute_request",
                            "session": session,
                            "username": "learner",
                            "version": "5.3",
                        },
                        "parent_header": {},
                        "metadata": {},
                        "channel": "shell",
                        "buffers": [],
                        "content": {
                            "code": source,
                            "silent": False,
                            "store_history": True,
                            "user_expressions": {},
                            "allow_stdin": False,
                            "stop_on_error": True,
                        },
                    }
                )
            )
            outputs, idle, replied = [], False, False
            while not (idle and replied):
                raw = await asyncio.wait_for(connection.read_message(), CELL_TIMEOUT)
                assert raw is not None, "the kernel's websocket closed"
                message = json.loads(raw)
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "status" and content["execution_state"] == "idle":
                    idle = True
                elif kind == "execute_reply":
                    replied = True
                elif kind in ("stream", "execute_result", "display_data", "error"):
                    outputs.append({"output_type": kind, **content})
                elif kind == "clear_output":
                    outputs.clear()
            results.append(outputs)
    finally:
        connection.close()
    return results


def start_kernel(hub: Hub, name: str, notebook: str) -> str:
    """A session for ``notebook`` in the learner's server, as JupyterLab makes when it opens it."""
    status, _, data = call(
        f"{hub.url}/user/{name}/api/sessions",
        hub.tokens[name],
        "POST",
        {"path": notebook, "type": "notebook", "name": Path(notebook).name, "kernel": {"name": "python3"}},
        timeout=30,
    )
    assert status == 201, f"no kernel for {notebook}: HTTP {status} {data[:300]!r}"
    return json.loads(data)["kernel"]["id"]


def run_lesson(hub: Hub, name: str, notebook: str, extra: list[str] = ()) -> tuple[dict, list[list[dict]]]:
    """Run the code cells of ``notebook`` (from the learner's copy) in a kernel of the learner's
    server, skipping the cells nbval skips; then ``extra`` code in the same kernel."""
    nb = json.loads((hub.homes / name / notebook).read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and "NBVAL_SKIP" not in "".join(c["source"])]
    kernel = start_kernel(hub, name, notebook)
    ws_url = f"ws://{urlsplit(hub.url).netloc}/user/{name}/api/kernels/{kernel}/channels"
    outputs = asyncio.run(run_cells(ws_url, hub.tokens[name], ["".join(c["source"]) for c in cells] + list(extra)))
    return {"cells": cells}, outputs


def save_run(name: str, notebook: str, cells: list[dict], outputs: list[list[dict]]) -> None:
    """The cells as they ran in the learner's server, for a look after a failure (artifacts/hub/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ran = [
        {
            "cell_type": "code",
            "source": c["source"],
            "metadata": {},
            "execution_count": None,
            "outputs": [{k: v for k, v in o.items() if k != "transient"} for o in out],
        }
        for c, out in zip(cells, outputs, strict=True)
    ]
    nb = {"cells": ran, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (ARTIFACTS / f"{Path(notebook).stem}.{name}.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")


def kernel_view(outputs: list[dict]) -> dict:
    """The JSON a probe cell printed."""
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    return json.loads(text.strip().splitlines()[-1])


PROBE = (
    "import json, os\n"
    "print(json.dumps({'cwd': os.getcwd(), 'offline': os.environ.get('COURSE_OFFLINE'),\n"
    "                  'key': os.environ.get('OPENAI_API_KEY'),\n"
    "                  'env': ' '.join(f'{k}={v}' for k, v in os.environ.items())}))"
)


def test_two_learners_pull_the_course_and_run_lesson_00(hub: Hub):
    started = time.monotonic()
    copies = {}
    for name in LEARNERS:
        assert follow_link(hub, name) == f"lab/tree/{REPO_NAME}/{LESSON_00}"
        copy = hub.homes / name / REPO_NAME
        assert (copy / LESSON_00).is_file() and (copy / "helpers" / "__init__.py").is_file()
        remote = subprocess.run(
            ["git", "remote", "get-url", "origin"], cwd=copy, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        assert remote == hub.repo_url
        copies[name] = copy
    assert len({c.resolve() for c in copies.values()}) == len(LEARNERS)  # each learner has their own copy

    # A learner's edit stays in their copy only.
    (copies["ada"] / "notebooks" / "scratch.txt").write_text("ada was here")
    assert not (copies["grace"] / "notebooks" / "scratch.txt").exists()

    stored = json.loads((ROOT / LESSON_00).read_text(encoding="utf-8"))
    differences = []
    for name in LEARNERS:
        lesson, outputs = run_lesson(hub, name, f"{REPO_NAME}/{LESSON_00}", [PROBE])
        seen = kernel_view(outputs.pop())
        key, other = hub.keys[name], next(v for k, v in hub.keys.items() if k != name)
        # The spawner's environment reached the kernel, which runs in the learner's own copy.
        assert seen["cwd"] == str(copies[name] / "notebooks")
        assert seen["offline"] == "1"
        assert seen["key"] == key
        assert other not in seen["env"], f"{name}'s kernel sees another learner's key"

        compared = [c for c in stored["cells"] if c["cell_type"] == "code" and "NBVAL_SKIP" not in "".join(c["source"])]
        assert [c["source"] for c in lesson["cells"]] == [c["source"] for c in compared]  # the course's lesson
        for cell, got in zip(lesson["cells"], outputs, strict=True):
            source = "".join(cell["source"])
            assert key not in json.dumps(got) and other not in json.dumps(got), "a key was printed in full"
            shown = "".join(text for _, text in comparable(got))
            # The two cells that show whether there is a key: with one from the hub they say where it
            # came from and show it masked (their wording is the helpers'; only the facts are checked).
            if source.strip().startswith(("find_key()", "print(find_key())")):
                assert f"{key[:3]}...{key[-2:]}" in shown and "environment" in shown, shown
            elif "real = get_client(offline=False)" in source:
                assert "No real client" not in shown and "error" not in [kind for kind, _ in comparable(got)], shown
            elif comparable(got) != comparable(cell["outputs"]):
                differences.append(
                    f"{name}, cell {source[:60]!r}:\n  stored:  {comparable(cell['outputs'])}"
                    f"\n  hub run: {comparable(got)}"
                )
        save_run(name, LESSON_00, lesson["cells"], outputs)

    # Each learner's token opens their own server only.
    for name in LEARNERS:
        other = next(n for n in LEARNERS if n != name)
        assert call(f"{hub.url}/user/{name}/api/status", hub.tokens[name])[0] == 200
        assert call(f"{hub.url}/user/{other}/api/status", hub.tokens[name])[0] in (302, 403)
    assert not differences, "lesson 00 in the hub differs from its stored outputs:\n" + "\n".join(differences)
    assert time.monotonic() - started < 120
    assert time.monotonic() - started < 120


def memory(process: psutil.Process) -> tuple[int, int]:
    """(RSS, USS) in bytes: USS is what stopping the process would give back (no shared pages)."""
    try:
        info = process.memory_full_info()
        return info.rss, info.uss
    except psutil.Error:
        return 0, 0


def test_one_learner_runs_every_lesson_within_the_stated_resources(hub: Hub):
    """Every lesson, each in its own kernel left open (as JupyterLab does when a learner moves
    on), in one learner's server: the memory of the server and its kernels, and their CPU time."""
    name = LEARNERS[0]
    if not (hub.homes / name / REPO_NAME).exists():
        follow_link(hub, name)
    token = hub.tokens[name]
    for session in json.loads(call(f"{hub.url}/user/{name}/api/sessions", token)[2]):  # start from no kernel
        assert call(f"{hub.url}/user/{name}/api/sessions/{session['id']}", token, "DELETE")[0] == 204
    server = server_process(hub, name)
    wait(lambda: len(tree(server)) == 1, 15, "the earlier kernels did not stop")
    server_start_uss = memory(server)[1]
    cpu_before = sum(sum(p.cpu_times()[:2]) for p in tree(server))
    peak = {"rss": 0, "uss": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            sizes = [memory(p) for p in tree(server)]
            peak["rss"] = max(peak["rss"], sum(r for r, _ in sizes))
            peak["uss"] = max(peak["uss"], sum(u for _, u in sizes))

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    sampler.start()
    timings = {}

    def run(lesson: str) -> None:
        begin = time.monotonic()
        _, outputs = run_lesson(hub, name, f"{REPO_NAME}/notebooks/{lesson}")
        errors = [o for cell in outputs for o in cell if o["output_type"] == "error"]
        assert not errors, f"{lesson}: {errors[0]['ename']}: {errors[0]['evalue']}"
        timings[lesson] = round(time.monotonic() - begin, 1)

    try:
        # Three lessons at a time, as learners who open the next lesson before the last one ends:
        # the same kernels stay open at the end, the same CPU is spent, in less time.
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(run, LESSONS))
    finally:
        done.set()
        sampler.join(timeout=5)
    kernels = tree(server)[1:]
    mb = 2**20
    figures = {
        "lessons_s": timings,
        "wall_s": round(time.monotonic() - started, 1),
        "cpu_s": round(sum(sum(p.cpu_times()[:2]) for p in tree(server)) - cpu_before, 1),
        "server_uss_mb_at_start": round(server_start_uss / mb),
        "kernel_uss_mb": [round(memory(k)[1] / mb) for k in kernels],
        "peak_uss_mb": round(peak["uss"] / mb),
        "peak_rss_mb": round(peak["rss"] / mb),
        "cpus_on_this_machine": os.cpu_count(),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "resources.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print("one learner, every lesson:", figures)
    assert len(kernels) == len(LESSONS)
    assert 0 < figures["peak_uss_mb"] < MAX_LEARNER_MB, figures


# ---------------------------------------------------------------- a widget lesson in Chromium, through the hub

WIDGET_LESSON = "notebooks/05_tokens.ipynb"  # the tokenizer playground
BROWSER_BUDGET = 90  # seconds for the whole browser test


def wait_for_hub_kernel(hub: Hub, name: str, notebook: str, timeout: float = 30) -> None:
    """Until the page's kernel for ``notebook`` exists, is idle and has the page connected
    (Run All before that would open a kernel dialog instead of running)."""

    def ready() -> bool:
        status, _, data = call(f"{hub.url}/user/{name}/api/sessions", hub.tokens[name], timeout=5)
        sessions = json.loads(data) if status == 200 else []
        return any(
            s.get("path") == notebook
            and (s.get("kernel") or {}).get("connections", 0) >= 1
            and (s.get("kernel") or {}).get("execution_state") == "idle"
            for s in sessions
        )

    wait(ready, timeout, f"the kernel of {notebook} did not start in {name}'s server", hub)


@pytest.mark.e2e
@pytest.mark.skipif(e2e.sync_playwright is None, reason="playwright is not installed (pip install playwright)")
@pytest.mark.skipif(e2e.CHROMIUM is None, reason="Chromium not found (Debian/Ubuntu: apt-get install chromium)")
def test_a_learner_runs_a_widget_lesson_in_chromium_through_the_hub(hub: Hub):
    """As a learner in the room: the hub's login form, the nbgitpuller link to lesson 05, Run All
    in JupyterLab, then the tokenizer playground answers clicks (its comm goes through the hub's
    proxy) and the lesson's kernel is offline because the spawner said so."""
    name = LEARNERS[1]  # the other learner keeps every lesson's kernel from the resources test
    notebook = f"{REPO_NAME}/{WIDGET_LESSON}"
    started = time.monotonic()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with e2e.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=e2e.CHROMIUM, headless=True, args=e2e.CHROMIUM_ARGS, timeout=30_000
        )
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(20_000)
            try:
                page.goto(f"{hub.url}/hub/login")
                page.locator("#username_input").fill(name)
                page.locator("#password_input").fill("any")  # the dummy authenticator takes any password
                page.locator("#login_submit").click()
                page.wait_for_url(re.compile(rf"/(hub|user/{name})/"))

                # nbgitpuller's page pulls (the learner already has a copy: it merges), then opens the lesson.
                page.goto(hub_link.make_link(hub.url, hub.repo_url, "main", WIDGET_LESSON))
                page.wait_for_url(f"**/user/{name}/lab/tree/{notebook}", timeout=60_000)
                panel = e2e.notebook_panel(page, Path(WIDGET_LESSON).name)
                wait_for_hub_kernel(hub, name, notebook)

                # The pulled copy holds the stored outputs: clear them, so what is checked comes from this run.
                page.locator(".lm-MenuBar-itemLabel", has_text="Edit").first.click()
                page.get_by_role("menuitem", name="Clear Outputs of All Cells", exact=True).click()
                e2e.expect(panel.locator(".jp-OutputArea-output")).to_have_count(0)
                e2e.run_all_cells(page)
                e2e.wait_until_all_ran(panel, timeout=45)

                # The banner of get_client(): offline, and the learner's server has a key, so the
                # only reason is COURSE_OFFLINE from the spawner's environment.
                banner = panel.locator(".jp-OutputArea-output", has_text="COURSE_OFFLINE").first
                e2e.expect(banner).to_contain_text(re.compile("offline", re.IGNORECASE))

                # The playground renders with its Korean sentence, counted in both encodings...
                field = panel.locator(".course-tokenizer-input textarea")
                count = {
                    e: panel.locator(f'.course-token-count[data-encoding="{e}"]') for e in ("cl100k_base", "o200k_base")
                }
                field.scroll_into_view_if_needed()
                e2e.expect(field).to_have_value(e2e.KOREAN)
                e2e.expect(count["cl100k_base"]).to_have_text("13")
                e2e.expect(count["o200k_base"]).to_have_text("10")
                # ...and answers a click: the preset goes to the kernel and the new counts come back.
                english = panel.locator("button.course-preset", has_text="English")
                english_text = english.get_attribute("title")
                assert english_text
                english.click()
                e2e.expect(field).to_have_value(english_text)
                for encoding, shown in count.items():
                    expected = len(e2e.tiktoken.get_encoding(encoding).encode_ordinary(english_text))
                    e2e.expect(shown).to_have_text(str(expected))
                panel.locator(".course-tokenizer-output").scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / "05-tokenizer.png"))
            except Exception:
                try:
                    page.screenshot(path=str(ARTIFACTS / "05-tokenizer-failure.png"))
                except Exception as problem:  # keep the original failure
                    print(f"no failure screenshot: {problem}")
                raise
            finally:
                page.close()
        finally:
            chromium.close()
    assert time.monotonic() - started < BROWSER_BUDGET


def test_servers_and_hub_stop_cleanly(hub: Hub):
    servers = {name: tree(server_process(hub, name)) for name in LEARNERS}
    proxy = [
        p
        for p in psutil.Process(hub.process.pid).children()
        if "configurable-http-proxy" in " ".join(p.cmdline()) or "node" in p.name()
    ]
    assert proxy, "the hub's proxy process was not found"
    for name in LEARNERS:
        api(hub, "DELETE", f"users/{name}/server")
    for name in LEARNERS:
        wait(
            lambda name=name: not api(hub, "GET", f"users/{name}")["servers"], 30, f"{name}'s server did not stop", hub
        )
        # The server and every kernel it started are gone.
        wait(
            lambda name=name: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in servers[name]),
            15,
            f"{name}'s server or kernels still run",
        )
    hub.process.send_signal(signal.SIGTERM)
    try:
        code = hub.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"JupyterHub did not stop within 30 s of SIGTERM:\n{hub.log_tail()}")
    assert code in (0, -signal.SIGTERM, 128 + signal.SIGTERM), f"JupyterHub exited with {code}:\n{hub.log_tail()}"
    wait(
        lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in proxy),
        10,
        "the proxy did not stop with the hub",
    )
