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
    # installed as pip would: with its metadata, so `pip list`, importlib.metadata and SBOM tools see it
    info = target / "iris_private-1.0.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: iris-private\nVersion: 1.0.0\n")
    (info / "INSTALLER").write_text("install_private\n")
    (info / "RECORD").write_text(f"{PACKAGE.name},,\n{info.name}/METADATA,,\n{info.name}/INSTALLER,,\n{info.name}/RECORD,,\n")
    print(f"install_private: iris-private 1.0.0 installed into {target}")
