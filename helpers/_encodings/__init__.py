"""tiktoken's two encodings the course uses, shipped in this folder so token counting needs no
internet (tiktoken itself downloads them on first use, and fails without a connection).

``register()`` runs when ``helpers`` is imported: it hands tiktoken's registry a constructor for
``o200k_base`` and ``cl100k_base`` that reads the file here, refuses it unless its sha256 is the
hash tiktoken publishes, and builds the encoding with the same arguments as tiktoken's own
``tiktoken_ext.openai_public``. ``tiktoken.get_encoding`` and ``tiktoken.encoding_for_model``
then return them from anywhere (a lesson, a script, Colab); ``TIKTOKEN_CACHE_DIR`` is not read
for them. Where the files come from and their licence: NOTICE.md beside this file.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import warnings
from pathlib import Path

import tiktoken
import tiktoken.registry

FOLDER = Path(__file__).resolve().parent
ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

# The arguments of tiktoken_ext/openai_public.py (tiktoken 0.14), and the sha256 it expects of each
# file. tests/test_offline_encodings.py checks them against the installed tiktoken.
SPECS: dict[str, dict] = {
    "o200k_base": {
        "sha256": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "pat_str": "|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        "special_tokens": {ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    },
    "cl100k_base": {
        "sha256": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        "pat_str": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501 - tiktoken's pattern as it is
        "special_tokens": {
            ENDOFTEXT: 100257,
            FIM_PREFIX: 100258,
            FIM_MIDDLE: 100259,
            FIM_SUFFIX: 100260,
            ENDOFPROMPT: 100276,
        },
    },
}

# Why registering failed (None when it worked): the doctor shows it.
PROBLEM: str | None = None


class EncodingFileError(ValueError):
    """A packaged encoding file is missing or is not the one tiktoken publishes."""


def load_ranks(name: str) -> dict[bytes, int]:
    """The token ranks of ``name`` from its file here, checked against the published sha256."""
    path = FOLDER / f"{name}.tiktoken"
    fix = "Restore it (git checkout -- helpers/_encodings) or reinstall the course."
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EncodingFileError(f"the course's tiktoken file {path} cannot be read ({error}). {fix}") from None
    found = hashlib.sha256(data).hexdigest()
    if found != SPECS[name]["sha256"]:
        raise EncodingFileError(
            f"the course's tiktoken file {path} is damaged or changed: its sha256 is {found}, "
            f"not the published {SPECS[name]['sha256']}, so it is not used. {fix}"
        )
    # The format tiktoken downloads: one "base64-token rank" pair a line.
    ranks = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def construct(name: str) -> dict:
    """What tiktoken's registry passes to ``tiktoken.Encoding(**...)`` for ``name``."""
    spec = SPECS[name]
    return {
        "name": name,
        "pat_str": spec["pat_str"],
        "mergeable_ranks": load_ranks(name),
        "special_tokens": dict(spec["special_tokens"]),
    }


def register() -> bool:
    """Make tiktoken build the course's encodings from the files here (lazily, on first use).
    Returns False, with a warning that says what it means, if tiktoken's registry is not the one
    this was written for (tiktoken 0.9 to 0.14): tiktoken then downloads them as usual."""
    global PROBLEM
    try:
        tiktoken.list_encoding_names()  # loads tiktoken's plugins into ENCODING_CONSTRUCTORS
        constructors = tiktoken.registry.ENCODING_CONSTRUCTORS
        if not isinstance(constructors, dict):
            raise TypeError(f"tiktoken.registry.ENCODING_CONSTRUCTORS is {type(constructors).__name__}, not a dict")
        for name in SPECS:
            constructors[name] = functools.partial(construct, name)
    except Exception as error:  # noqa: BLE001 - any mismatch: say so and leave tiktoken as it is
        PROBLEM = f"tiktoken {getattr(tiktoken, '__version__', '?')} differs ({type(error).__name__}: {error})"
        warnings.warn(
            f"The course could not hand tiktoken its own encoding files: {PROBLEM}. tiktoken will "
            "download o200k_base and cl100k_base on first use instead, which needs internet. "
            "Install a tiktoken from 0.9 to 0.14, or report this to the course.",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    PROBLEM = None
    return True
