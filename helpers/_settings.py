"""Course settings, read in one place: the environment first, then a ``.env`` file, and for
the key also Colab secrets. A client reads them once, when it is made (``Settings.read()``),
and keeps that reading for its whole life.

The settings: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``COURSE_OFFLINE``,
``COURSE_SPEND_CAP_USD``, ``COURSE_ALLOW_HTTP``. ``.env`` is searched from the working
directory up to the course folder (the one holding ``pyproject.toml`` next to ``helpers/``) and
no further; with the helpers installed elsewhere (Colab), only the working directory is searched.

``.env`` is read with python-dotenv's own parser, so its values are what ``dotenv_values``
gives. A line that is not a setting (``NAME=value``) is not read: instead of python-dotenv's
log line (no file name, once per reading) the course warns once with a ``DotenvWarning``
naming the file, the line and the setting it seems to hold, never the line's text (it may
hold a key). ``python3 course.py doctor`` reports it too.
"""

from __future__ import annotations

import io
import os
import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

TRUE = {"1", "true", "yes", "on"}
# The settings a .env line may hold, for naming them in a message about a line that is broken.
KNOWN = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COURSE_OFFLINE", "COURSE_SPEND_CAP_USD", "COURSE_ALLOW_HTTP")


class DotenvWarning(UserWarning):
    """A .env line could not be read as a setting."""


@dataclass(frozen=True)
class DotenvProblem:
    """A line of ``.env`` that is not a setting: its file, its number and what it seems to hold."""

    path: Path
    line: int  # from 1
    names: tuple[str, ...] = ()  # course settings the line mentions
    key_like: bool = False  # it holds something like an OpenAI key (sk-...)

    def __str__(self) -> str:
        lost = ""
        if self.names:
            lost = f"; it mentions {' and '.join(self.names)}, which is not read from this file"
        elif self.key_like:
            lost = "; it holds what looks like a key, which is not read"
        return (
            f"line {self.line} of {self.path} is not a setting (NAME=value), so it is ignored{lost}. "
            "Write it as NAME=value (e.g. OPENAI_API_KEY=sk-...), or start it with # to keep it as a comment"
        )


def _problem(path: Path, line: int, text: str, values: Mapping[str, str | None]) -> DotenvProblem:
    # Only the settings the line loses: one set on another line of the file is still read.
    names = tuple(name for name in KNOWN if name in text and values.get(name) is None)
    return DotenvProblem(path, line, names, key_like=re.search(r"\bsk-[\w-]{8,}", text) is not None)


def read_dotenv(path: Path) -> tuple[dict[str, str | None], tuple[DotenvProblem, ...]]:
    """The settings of the ``.env`` at ``path`` and the lines that are not settings.

    A line python-dotenv cannot parse (``OPENAI_API_KEY: sk-...``, an unclosed quote) and a
    line that names no value (``OPENAI_API_KEY`` alone, a key pasted on its own line) are
    problems. The values come from ``dotenv_values`` on the other lines, so they are exactly
    python-dotenv's (quotes, ``export``, ``${VARIABLE}`` expansion)."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")  # a stray byte must not stop a lesson
    except OSError as error:
        warnings.warn(f"{path} could not be read ({error}), so its settings are not used.", DotenvWarning, 3)
        return {}, ()
    kept, broken = [], []
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original
        if binding.error or (binding.key is not None and binding.value is None):
            broken.append(original)
        else:
            kept.append(original.string)
    values = dotenv_values(stream=io.StringIO("".join(kept)))  # nothing left to warn about
    return values, tuple(_problem(path, line.line, line.string, values) for line in broken)


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
    dotenv_problems: tuple[DotenvProblem, ...] = ()  # lines of dotenv_file that are not settings

    @classmethod
    def read(cls) -> Settings:
        environ = dict(os.environ)
        if environ.get("COURSE_IGNORE_DOTENV"):  # tests and notebook re-runs: a developer's .env stays out
            return cls(environ)
        path = dotenv_path()
        if path is None:
            return cls(environ)
        values, problems = read_dotenv(path)
        for problem in problems:  # the same text is shown once per process, however often .env is read
            warnings.warn(f".env: {problem}.", DotenvWarning, stacklevel=2)
        return cls(environ, path, values, problems)

    def lost_key(self) -> DotenvProblem | None:
        """A line of .env that seems to hold the key but is not read (None if none)."""
        return next((p for p in self.dotenv_problems if "OPENAI_API_KEY" in p.names or p.key_like), None)

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
