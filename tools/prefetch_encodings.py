"""Put tiktoken's encoding files in a folder, so token counting works without internet.

    python -m tools.prefetch_encodings            # into .tiktoken-cache/ in the course folder
    python -m tools.prefetch_encodings DIR        # into DIR (e.g. a USB stick for a workshop)
    python -m tools.prefetch_encodings DIR --from OTHER_DIR   # copy from another cache, no download

Run it once while online. Then point TIKTOKEN_CACHE_DIR at the folder (the script says
how); `python3 course.py` does that by itself for the default folder.

tiktoken downloads an encoding the first time it is used and caches the file under the
SHA-1 of its URL in TIKTOKEN_CACHE_DIR. This script fills the folder with those files:
copied from another cache that already has them (--from, TIKTOKEN_CACHE_DIR,
DATA_GYM_CACHE_DIR or tiktoken's default temporary cache), else downloaded. Then it
checks, in a fresh Python with the network blocked, that every encoding loads from the
folder alone.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / ".tiktoken-cache"
# cl100k_base: gpt-3.5 and gpt-4; o200k_base: gpt-4o, gpt-4.1, o-series, gpt-5; p50k_base: older models.
ENCODINGS = ("cl100k_base", "o200k_base", "p50k_base")
URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
BLOCKED_NETWORK = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}


def cache_name(encoding: str) -> str:
    """The file name tiktoken gives an encoding in its cache: the SHA-1 of its URL."""
    return hashlib.sha1(URL.format(name=encoding).encode()).hexdigest()


def sources(extra: list[Path], target: Path) -> list[Path]:
    """Other caches to copy from, in order: --from, then those tiktoken itself would use."""
    found = list(extra)
    for name in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if os.environ.get(name):
            found.append(Path(os.environ[name]))
    found.append(Path(tempfile.gettempdir()) / "data-gym-cache")
    target = target.resolve()
    return [p for p in found if p.is_dir() and p.resolve() != target]


def fetch(encoding: str, target: Path, others: list[Path]) -> str:
    """Make sure ``target`` holds ``encoding``; say where it came from."""
    dest = target / cache_name(encoding)
    if dest.is_file() and dest.stat().st_size:
        return "already there"
    for source in others:
        found = source / cache_name(encoding)
        if found.is_file() and found.stat().st_size:
            partial = dest.with_suffix(".partial")
            shutil.copyfile(found, partial)
            os.replace(partial, dest)
            return f"copied from {source}"
    # Download: tiktoken writes the file into TIKTOKEN_CACHE_DIR under the right name.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(target)
    import tiktoken

    tiktoken.get_encoding(encoding)
    if not dest.is_file():
        raise RuntimeError(
            f"tiktoken loaded {encoding} but did not cache it as {dest.name}: "
            "has tiktoken changed where it downloads encodings from?"
        )
    return "downloaded"


def verify(target: Path, encodings: tuple[str, ...]) -> None:
    """Load every encoding in a new Python that has only ``target`` and no network."""
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    env.update(BLOCKED_NETWORK, TIKTOKEN_CACHE_DIR=str(target))
    code = (
        "import sys, tiktoken\n"
        "for name in sys.argv[1:]:\n"
        "    tokens = tiktoken.get_encoding(name).encode('Hello, tokens!')\n"
        "    print(f'  {name}: loads ({len(tokens)} tokens in \"Hello, tokens!\")')\n"
    )
    result = subprocess.run([sys.executable, "-c", code, *encodings], env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"the encodings do not load from {target} alone:\n{result.stderr.strip()}")
    print(result.stdout, end="")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR, help="folder to fill")
    parser.add_argument(
        "--from",
        dest="sources",
        type=Path,
        action="append",
        default=[],
        help="a tiktoken cache to copy from (repeatable)",
    )
    parser.add_argument("--encoding", action="append", help="only these encodings (repeatable)")
    args = parser.parse_args(argv)
    target = args.dir.expanduser().resolve()
    encodings = tuple(args.encoding or ENCODINGS)
    target.mkdir(parents=True, exist_ok=True)
    others = sources(args.sources, target)
    try:
        for name in encodings:
            print(f"{name}: {fetch(name, target, others)}", flush=True)
        verify(target, encodings)
    except Exception as error:  # a plain message, not a traceback, for a learner or a host
        print(
            f"error: {error}\nRun this while online, or pass --from with a folder that has the files.", file=sys.stderr
        )
        return 1
    print(f"\nThe encodings are in {target}. Point tiktoken at them:")
    print(f'  macOS/Linux:  export TIKTOKEN_CACHE_DIR="{target}"')
    print(f'  Windows:      set TIKTOKEN_CACHE_DIR={target}    (PowerShell: $env:TIKTOKEN_CACHE_DIR="{target}")')
    if target == DEFAULT_DIR.resolve():
        print("(`python3 course.py` uses this folder by itself when TIKTOKEN_CACHE_DIR is not set.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
