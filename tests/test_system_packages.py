"""deploy/system-packages.sh, which `make demo` and `make test` run first: it installs the
missing Debian packages as root or through sudo, or prints the exact command and stops.
Run with a PATH of stand-ins for `id`, `sudo`, `apt-get` and the programs it looks for, so
the test neither needs nor touches the machine's packages."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "deploy" / "system-packages.sh"
JAVA_17 = "echo 'openjdk version \"17.0.13\" 2024-10-15' >&2"
# apt-get logs each call with DEBIAN_FRONTEND; installing the JRE puts a java on the PATH.
APT_GET = """echo "${DEBIAN_FRONTEND:-}|$*" >> "$APT_LOG"
case " $* " in *" openjdk-17-jre-headless "*)
    printf '#!/bin/bash\\n%s\\n' "$JAVA_17" > "${0%/*}/java"
    /bin/chmod +x "${0%/*}/java";;
esac"""


def stand_in(folder: Path, name: str, body: str = "") -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


def run(
    tmp_path: Path, goal: str, *, uid: int, present: dict[str, str], sudo: bool = True
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The script with only the named programs on its PATH (name -> body); returns its result
    and the apt-get calls it made ("DEBIAN_FRONTEND|arguments", with "sudo" before each call
    that went through sudo)."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "env").symlink_to("/usr/bin/env")
    stand_in(stubs, "id", f"echo {uid}")
    stand_in(stubs, "apt-get", APT_GET)
    if sudo:
        stand_in(stubs, "sudo", 'echo sudo >> "$APT_LOG"; exec "$@"')
    for name, body in present.items():
        stand_in(stubs, name, body)
    log = tmp_path / "apt.log"
    env = {"PATH": str(stubs), "APT_LOG": str(log), "JAVA_17": JAVA_17}
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT), goal], env=env, capture_output=True, text=True, timeout=30,
        check=False,
    )  # fmt: skip
    return done, log.read_text().splitlines() if log.exists() else []


SLURM = {"sbatch": "", "munge": ""}
EVERYTHING = {"java": JAVA_17, "mvn": "", "prometheus": "", "chromium": "", **SLURM}


@pytest.mark.parametrize("goal", ["demo", "test"])
def test_nothing_is_installed_when_nothing_is_missing(tmp_path: Path, goal: str):
    done, calls = run(tmp_path, goal, uid=1000, present=EVERYTHING, sudo=False)
    assert (done.returncode, calls) == (0, []), done.stderr


def test_the_demo_needs_only_java_and_maven(tmp_path: Path):
    done, calls = run(tmp_path, "demo", uid=0, present={"java": JAVA_17, "mvn": ""})
    assert (done.returncode, calls) == (0, []), done.stderr


def test_root_installs_what_the_tests_miss_with_apt_get(tmp_path: Path):
    done, calls = run(tmp_path, "test", uid=0, present={"mvn": ""})
    assert done.returncode == 0, done.stderr
    assert calls == [
        "|update -qq",
        "noninteractive|install -y -qq openjdk-17-jre-headless prometheus chromium slurmctld "
        "slurmd slurm-client munge",
    ]


def test_an_older_java_counts_as_missing(tmp_path: Path):
    old = "echo 'openjdk version \"11.0.25\" 2024-10-15' >&2"
    present = {"java": old, "mvn": "", "prometheus": "", "chromium": ""}
    done, calls = run(tmp_path, "demo", uid=0, present=present)
    # The stand-in JRE lands in the same folder, so the java found first is now 17.
    assert done.returncode == 0, done.stderr
    assert calls[-1] == "noninteractive|install -y -qq openjdk-17-jre-headless"


def test_a_user_installs_through_sudo(tmp_path: Path):
    done, calls = run(tmp_path, "demo", uid=1000, present={})
    assert done.returncode == 0, done.stderr
    assert calls == [
        "sudo", "|update -qq",
        "sudo", "noninteractive|install -y -qq openjdk-17-jre-headless maven",
    ]  # fmt: skip


def test_without_root_or_sudo_it_prints_the_command_and_stops(tmp_path: Path):
    present = {"java": JAVA_17, **SLURM}
    done, calls = run(tmp_path, "test", uid=1000, present=present, sudo=False)
    assert done.returncode == 1
    assert calls == []
    assert (
        "    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
        "maven prometheus chromium\n"
    ) in done.stderr


def test_an_unknown_goal_is_refused(tmp_path: Path):
    done, calls = run(tmp_path, "deploy", uid=0, present={})
    assert (done.returncode, calls) == (2, [])
    assert "usage" in done.stderr


def test_the_makefile_bootstraps_each_goal_with_its_packages():
    makefile = (ROOT / "Makefile").read_text()
    assert "deploy/system-packages.sh $*" in makefile
    assert "demo: bootstrap-demo" in makefile
    assert "test: bootstrap-test " in makefile
    assert os.access(SCRIPT, os.X_OK)
