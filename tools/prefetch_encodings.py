"""Check the tiktoken encodings the course ships: nothing is fetched any more.

    python -m tools.prefetch_encodings

The course carries o200k_base and cl100k_base in helpers/_encodings (NOTICE.md there says where
they come from, their hashes and licence), and ``import helpers`` hands them to tiktoken. This
checks, in a fresh Python with the network refused and no tiktoken cache, that each file matches
its published sha256 and loads through ``tiktoken.get_encoding``. A folder argument, which older
build scripts pass (binder/postBuild), is accepted and ignored: there is nothing to store.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network refused: the encodings must load without it")

socket.socket.connect = refuse
socket.getaddrinfo = refuse

import sys
import tiktoken
from helpers import _encodings

for name in _encodings.SPECS:
    tokens = tiktoken.get_encoding(name).encode("Hello, tokens!")
    print(f"{name}: matches its sha256 and loads ({len(tokens)} tokens in 'Hello, tokens!')")
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.folder:
        print(f"(nothing is stored in {args.folder}: the encodings ship with the course)")
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    with tempfile.TemporaryDirectory() as empty:
        env["TMPDIR"] = empty  # so tiktoken's default cache is empty too
        result = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode:
        lines = result.stderr.strip().splitlines()
        print(f"error: {lines[-1] if lines else 'the check failed'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
