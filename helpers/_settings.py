"""Course settings, read in one place: the environment first, then a ``.env`` file, and for
the key also Colab secrets. A client reads them once, when it is made (``Settings.read()``),
and keeps that reading for its whole life.

The settings: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``COURSE_OFFLINE``,
``COURSE_SPEND_CAP_USD``, ``COURSE_ALLOW_HTTP``. ``.env`` is searched from the working
directory up to the course folder (the one holding ``pyproject.toml`` next to ``helpers/``) and
no further; with the helpers installed elsewhere (Colab), only the working directory is searched.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

TRUE = {"1", "true", "yes", "on"}


def describe(source: str, variable: str) -> str:
    """Where a setting came from, in words: ``OPENAI_BASE_URL in /x/.env`` and the like."""
    if source == "argument":
        name = {"OPENAI_API_KEY": "api_key", "OPENAI_BASE_URL": "base_url"}.get(variable, variable)
        return f"the {name}= argument of get_client()"
    if source == "environment":
        return f"the environment variable {variable}"
    if source.startswith(".env ("):
        return f"{variable} in {source[6:-1]}"
    if source == "Colab secrets":
        return f"the Colab secret {variable}"
    if source == "default":
        return "the default (OPENAI_BASE_URL is not set)"
    return source


def course_folder() -> Path | None:
    """The course's own folder (``pyproject.toml`` beside ``helpers/``), or None when the helpers
    are installed as a package somewhere else (Colab, pip)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def dotenv_path() -> Path | None:
    """The ``.env`` to read: the nearest one from the working directory up to the course folder.

    A ``.env`` above the course folder (a shared temporary folder, a home directory) could
    redirect the URL or lift the cap, so the search stops at the course folder."""
    try:
        here = Path.cwd().resolve()
    except OSError:  # the working directory was deleted
        return None
    folders = [here]
    root = course_folder()
    if root is not None and here.is_relative_to(root):
        folders += [folder for folder in here.parents if folder.is_relative_to(root)]
    for folder in folders:
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Settings:
    """One reading of the environment and of ``.env``: a client uses it for its whole life."""

    # Never in the repr: both may hold OPENAI_API_KEY.
    environ: Mapping[str, str] = field(repr=False)
    dotenv_file: Path | None = None
    dotenv: Mapping[str, str | None] = field(default_factory=dict, repr=False)

    @classmethod
    def read(cls) -> Settings:
        environ = dict(os.environ)
        if environ.get("COURSE_IGNORE_DOTENV"):  # tests and notebook re-runs: a developer's .env stays out
            return cls(environ)
        path = dotenv_path()
        return cls(environ, path, dotenv_values(path) if path else {})

    @property
    def dotenv_source(self) -> str:
        return f".env ({self.dotenv_file})"

    def from_environment(self, name: str) -> str | None:
        value = (self.environ.get(name) or "").strip()
        return value or None

    def from_dotenv(self, name: str) -> str | None:
        value = (self.dotenv.get(name) or "").strip()
        return value or None

    def lookup(self, name: str) -> tuple[str | None, str]:
        """(value, source): the environment wins over ``.env``; ("none") when neither has it."""
        if (value := self.from_environment(name)) is not None:
            return value, "environment"
        if (value := self.from_dotenv(name)) is not None:
            return value, self.dotenv_source
        return None, "none"

    def get(self, name: str) -> str | None:
        return self.lookup(name)[0]

    def is_true(self, name: str) -> bool:
        return (self.get(name) or "").lower() in TRUE


def setting(name: str) -> str | None:
    """A course setting: the environment variable if set, else the value in ``.env``."""
    return Settings.read().get(name)


def in_colab() -> bool:
    return "google.colab" in sys.modules


def in_kernel() -> bool:
    """True inside a Jupyter kernel (IPython with a kernel attached), not in a plain script."""
    ipython = sys.modules.get("IPython")  # never imported here: a script without it is no kernel
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None


def colab_key() -> tuple[str | None, str]:
    """The OPENAI_API_KEY Colab secret, or None and a hint saying what to click."""
    from google.colab import userdata  # type: ignore[import-not-found]

    try:
        return userdata.get("OPENAI_API_KEY"), ""
    except userdata.SecretNotFoundError:
        return None, (
            "Colab has no secret named OPENAI_API_KEY: click the key icon in the left "
            "sidebar, add a secret with that name and your key as the value."
        )
    except userdata.NotebookAccessError:
        return None, (
            "The OPENAI_API_KEY secret exists but this notebook may not read it: click "
            "the key icon in the left sidebar and turn on 'Notebook access' for it."
        )
