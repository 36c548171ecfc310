#!/usr/bin/env python3
"""Print the nbgitpuller link that opens the course on a JupyterHub.

    python3 course.py hub-link --hub https://hub.example.org
    python -m tools.hub_link --hub https://hub.example.org [--repo URL] [--branch main]
                             [--lang ko | --path notebooks/00_setup.ipynb] [--app lab]

A learner who follows the link logs in to the hub, gets their server started, and
nbgitpuller clones the course into their home folder (or, on a later click, merges the
host's new commits without overwriting the learner's edits), then opens ``--path`` in
JupyterLab. The link has the form nbgitpuller documents:

    https://HUB/hub/user-redirect/git-pull?repo=REPO&urlpath=lab/tree/FOLDER/PATH&branch=BRANCH

with every value URL-encoded. FOLDER is where nbgitpuller clones to: the last part of
the repository URL, as nbgitpuller names it. The hub's single-user servers need
nbgitpuller installed (TLJH's user environment has it; see docs/workshop.md).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
APPS = {"lab": "lab/tree/", "notebook": "notebooks/"}  # how each interface opens a file


# Each track's first lesson (course.py opens the same ones).
FIRST_LESSONS = {"en": "notebooks/00_setup.ipynb", "ko": "notebooks/ko/00_setup.ipynb"}


def course_homepage(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The course's repository: ``Homepage`` in pyproject.toml's [project.urls]."""
    text = pyproject.read_text(encoding="utf-8")
    try:
        import tomllib  # Python 3.11+

        return tomllib.loads(text)["project"]["urls"]["Homepage"]
    except ImportError:  # Python 3.10: the one line we need, without a TOML parser
        section = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        found = section and re.search(r'^Homepage\s*=\s*"([^"]+)"', section.group(1), re.M)
        if not found:
            raise KeyError("Homepage") from None
        return found.group(1)


def hub_base(hub: str) -> str:
    """``hub`` as https://host[/prefix], whatever form it was given in (no scheme, /hub/, a slash)."""
    hub = hub.strip()
    if "://" not in hub:
        hub = "https://" + hub
    parts = urlsplit(hub)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not a hub address: {hub!r} (expected e.g. https://hub.example.org)")
    path = parts.path.rstrip("/")
    path = path.removesuffix("/hub")  # a link copied from the hub's own pages
    return f"{parts.scheme}://{parts.netloc}{path}"


def clone_folder(repo: str) -> str:
    """The folder nbgitpuller clones ``repo`` into: the last part of its URL or path."""
    return repo.rstrip("/").split("/")[-1]


def make_link(
    hub: str, repo: str, branch: str = "main", path: str = "notebooks/00_setup.ipynb", app: str = "lab"
) -> str:
    """The nbgitpuller link that pulls ``repo`` at ``branch`` and opens ``path`` in ``app``."""
    if app not in APPS:
        raise ValueError(f"unknown app {app!r}: use one of {', '.join(APPS)}")
    urlpath = APPS[app] + clone_folder(repo) + "/" + path.lstrip("/")
    query = urlencode({"repo": repo, "urlpath": urlpath, "branch": branch}, quote_via=quote, safe="")
    return f"{hub_base(hub)}/hub/user-redirect/git-pull?{query}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.example.org")
    parser.add_argument("--repo", help="the course's git repository (default: Homepage in pyproject.toml)")
    parser.add_argument("--branch", default="main", help="branch to pull (default: main)")
    parser.add_argument(
        "--path",
        default=None,
        help="file to open, relative to the repository (default: the track's lesson 00)",
    )
    parser.add_argument(
        "--lang",
        choices=sorted(FIRST_LESSONS),
        default="en",
        help="the track whose lesson 00 opens: en, or ko for the Korean track (default: en)",
    )
    parser.add_argument("--app", choices=sorted(APPS), default="lab", help="interface to open it in (default: lab)")
    args = parser.parse_args(argv)
    try:
        repo = args.repo or course_homepage()
        print(make_link(args.hub, repo, args.branch, args.path or FIRST_LESSONS[args.lang], args.app))
    except (ValueError, KeyError, OSError) as error:
        print(
            f"error: {error}. Pass --hub https://your-hub and, if needed, --repo with the course's git URL.",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
