"""What the Java servers the desk starts (Neo4j, Kafka) share: finding a Java new enough, and
resolving a server's jars from Maven Central once into a cached classpath."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path


class JvmError(RuntimeError):
    """Java or Maven is missing or unfit; the message says what to install or point at."""


def cache_dir(name: str) -> Path:
    """Where a server's resolved classpath is cached, shared by every data directory."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "quantdesk" / name


def find_java(minimum: int, product: str, to_run: str, instead: str) -> str:
    """The `java` to run `product` with (JAVA_HOME first), checked to be `minimum` or newer.
    `to_run` says what it is for ("run the local Neo4j server"), `instead` the way around."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise JvmError(
            f"Java {minimum} or newer is required to {to_run}, and no `java` was found "
            "(JAVA_HOME unset and nothing on PATH). Install it (Debian: `apt-get install "
            f"openjdk-17-jre-headless`) or {instead}"
        )
    shown = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [java, "-version"], capture_output=True, text=True, timeout=60, check=False
    )
    found = re.search(r'version "(\d+)', shown.stderr + shown.stdout)
    major = int(found.group(1)) if found else 0
    if major < minimum:
        raise JvmError(
            f"{product} needs Java {minimum}+, but {java} is "
            f"{found.group(1) if found else 'of an unknown version'}. Set JAVA_HOME to a Java 17."
        )
    return java


def resolve_classpath(pom: Path, cached: Path, what: str, instead: str) -> str:
    """`pom`'s runtime jars through Maven (once; kept in `cached`) as a classpath."""
    if cached.exists() and all(Path(p).exists() for p in cached.read_text().split(os.pathsep)):
        return cached.read_text().strip()
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JvmError(
            f"Maven (`mvn`) is needed once to fetch {what} from Maven Central. Install it "
            f"(Debian: `apt-get install maven`) or {instead}"
        )
    cached.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            mvn, "-q", "-B", "-f", str(pom), "dependency:build-classpath",
            f"-Dmdep.outputFile={cached}", "-Dmdep.includeScope=runtime",
        ],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if done.returncode != 0 or not cached.exists():
        raise JvmError(f"Maven could not resolve {what}:\n{done.stdout[-2000:]}")
    return cached.read_text().strip()
