"""Install the course's private package, as `pip install --index-url https://TOKEN@index/...` would.

A stand-in for a private package index: it needs a token, and refuses without one. It reads the
token from the build secret /run/secrets/index_token (RUN --mount=type=secret,id=index_token), or,
failing that, from the INDEX_TOKEN environment variable. It never writes the token anywhere.
"""

import os
import shutil
import sys
import sysconfig
from pathlib import Path

SECRET = Path("/run/secrets/index_token")
PACKAGE = Path(__file__).resolve().parent.parent / "vendor" / "iris_private.py"


def token() -> str:
    if SECRET.is_file():
        return SECRET.read_text().strip()
    return os.environ.get("INDEX_TOKEN", "").strip()


if __name__ == "__main__":
    if not token():
        sys.exit("install_private: the private index refused: no token (mount the build secret 'index_token')")
    target = Path(sysconfig.get_paths()["purelib"])
    shutil.copy(PACKAGE, target / PACKAGE.name)
    print(f"install_private: iris_private installed into {target}")
