"""Start, stop and inspect a local one-node SLURM cluster from Debian's packages (slurm-wlm
22.05: `slurmctld`, `slurmd`, the client commands, and `munge` for its credentials).

Everything lives under one home (`<data_dir>/slurm`): a munge key made for this cluster and
`munged` on its own socket, a generated `slurm.conf` (the controller on 127.0.0.1:<port>,
slurmd on <port + 1>, one node `localhost` with this machine's cores and memory, one
partition `desk`), state, spool, logs and pid files. Nothing of the system's own munge or
slurm configuration is read or changed: clients find this cluster by `SLURM_CONF`
(`client_env`). No accounting daemon runs, so `sacct` has nothing to say: the desk follows
its jobs with `squeue` and the result files (tools/research/cluster.py).

slurmd starts job steps as their users, so it runs as root; as another user the launcher
says so and stops (point the desk at an existing cluster instead: `QUANTDESK_SLURM_CONF`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PARTITION = "desk"
NODE = "localhost"
PACKAGES = "slurmctld slurmd slurm-client munge"


class SlurmLaunchError(RuntimeError):
    """The local cluster could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class SlurmStatus:
    running: bool
    home: Path
    conf: Path
    pids: dict[str, int | None]


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if found is None:
        raise SlurmLaunchError(
            f"{name} is not installed: the local SLURM cluster needs Debian's {PACKAGES} "
            "(`make test` installs them; or point QUANTDESK_SLURM_CONF at an existing cluster)"
        )
    return found


def conf_path(home: Path) -> Path:
    return home / "slurm.conf"


def client_env(conf: Path) -> dict[str, str]:
    """The environment in which `sbatch`, `squeue` and `scancel` talk to the cluster of
    `conf`."""
    return os.environ | {"SLURM_CONF": str(conf)}


def _memory_mb() -> int:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 1024
    # Leave a quarter to the desk and the system: jobs are sized against the rest.
    return max(512, int(pages * size * 0.75 / 2**20))


def _config(home: Path, port: int, user: str) -> str:
    cpus = os.cpu_count() or 1
    lines = {
        "ClusterName": "quantdesk",
        "SlurmctldHost": f"{NODE}(127.0.0.1)",
        "SlurmctldPort": str(port),
        "SlurmdPort": str(port + 1),
        "SlurmUser": user,
        "SlurmdUser": "root",
        "AuthType": "auth/munge",
        "AuthInfo": f"socket={home / 'munge' / 'munge.socket'}",
        "CredType": "cred/munge",
        "StateSaveLocation": str(home / "state"),
        "SlurmdSpoolDir": str(home / "spool"),
        "SlurmctldPidFile": str(home / "slurmctld.pid"),
        "SlurmdPidFile": str(home / "slurmd.pid"),
        "SlurmctldLogFile": str(home / "log" / "slurmctld.log"),
        "SlurmdLogFile": str(home / "log" / "slurmd.log"),
        # No cgroups in containers and CI runners: processes are tracked by their parent.
        "ProctrackType": "proctrack/linuxproc",
        "TaskPlugin": "task/none",
        "JobAcctGatherType": "jobacct_gather/none",
        "AccountingStorageType": "accounting_storage/none",
        "JobCompType": "jobcomp/none",
        "SchedulerType": "sched/backfill",
        # Slurm holds a submitted batch job up to 3 s (batch_sched_delay) to schedule many
        # at once; a sweep's tasks are short, so each would wait longer than it runs.
        "SchedulerParameters": "batch_sched_delay=0",
        "SelectType": "select/cons_tres",
        "SelectTypeParameters": "CR_Core_Memory",
        "MpiDefault": "none",
        # A job that names no memory gets this much a core, not the whole node.
        "DefMemPerCPU": "1024",
        "ReturnToService": "2",
        "MaxArraySize": "100001",
        "MaxJobCount": "200000",
        # Finished jobs leave squeue at once: the desk reads results from files, not sacct.
        "MinJobAge": "5",
        "KillWait": "5",
    }
    node = f"NodeName={NODE} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={_memory_mb()} State=UNKNOWN"
    partition = f"PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP"
    body = "\n".join(f"{k}={v}" for k, v in lines.items())
    header = "# Written by quantdesk (deploy/slurm/launcher.py); rewritten on start."
    return f"{header}\n{body}\n{node}\n{partition}\n"


def _pid(path: Path) -> int | None:
    """The live process a pid file names; an exited daemon left unreaped (a zombie, as
    under a container's init that reaps nothing) counts as gone."""
    try:
        pid = int(path.read_text().strip())
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    return None if stat.rpartition(")")[2].split()[0] in ("Z", "X") else pid


def _pid_files(home: Path) -> dict[str, Path]:
    return {
        "munged": home / "munge" / "munged.pid",
        "slurmctld": home / "slurmctld.pid",
        "slurmd": home / "slurmd.pid",
    }


def status(home: Path) -> SlurmStatus:
    pids = {name: _pid(path) for name, path in _pid_files(home).items()}
    return SlurmStatus(all(pids.values()), home, conf_path(home), pids)


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(  # noqa: S603 - argv of the installed daemons, no shell
        command, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SlurmLaunchError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-800:]}")


def _log_tail(home: Path) -> str:
    tails = []
    for name in ("slurmctld.log", "slurmd.log", "munged.log"):
        path = home / "log" / name
        if path.exists():
            tails.append(f"--- {name}\n" + "\n".join(path.read_text().splitlines()[-8:]))
    return "\n".join(tails)


def node_state(conf: Path) -> str:
    """What `sinfo` says of the node (idle, mixed, allocated, down...), or '' unanswered."""
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [_binary("sinfo"), "-h", "-n", NODE, "-o", "%T"],
        capture_output=True, text=True, env=client_env(conf), timeout=10, check=False,
    )  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else ""


def start(home: Path, port: int = 16817, timeout_s: float = 60.0) -> Path:
    """Start munged, slurmctld and slurmd under `home` unless they run; the conf's path once
    the node takes jobs."""
    if os.geteuid() != 0:
        raise SlurmLaunchError(
            "a local SLURM cluster runs slurmd as root (it starts jobs as their users); run "
            "`quantdesk services up slurm` as root, or set QUANTDESK_SLURM_CONF to an existing "
            "cluster's slurm.conf"
        )
    binaries = {n: _binary(n) for n in ("mungekey", "munged", "slurmctld", "slurmd", "sinfo")}
    conf = conf_path(home)
    if status(home).running:
        return conf
    stop(home)  # a half-started cluster (one daemon died) starts over whole
    for sub in ("munge", "state", "spool", "log"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    munge = home / "munge"
    munge.chmod(0o711)  # munged refuses a socket directory others may write to
    key = munge / "munge.key"
    if not key.exists():
        _run([binaries["mungekey"], "--create", f"--keyfile={key}"], "mungekey")
    key.chmod(0o600)
    user = pwd.getpwuid(os.geteuid()).pw_name
    conf.write_text(_config(home, port, user))
    _run(
        [binaries["munged"], "--force", f"--socket={munge / 'munge.socket'}",
         f"--key-file={key}", f"--pid-file={munge / 'munged.pid'}",
         f"--seed-file={munge / 'munged.seed'}", f"--log-file={home / 'log' / 'munged.log'}"],
        "munged",
    )  # fmt: skip
    env = client_env(conf)
    _run([binaries["slurmctld"], "-f", str(conf)], "slurmctld", env)
    _run([binaries["slurmd"], "-f", str(conf), "-N", NODE], "slurmd", env)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = node_state(conf)
        if state.rstrip("*~#") in ("idle", "mixed", "allocated"):
            return conf
        time.sleep(0.25)
    raise SlurmLaunchError(f"the node did not come up within {timeout_s:.0f} s\n{_log_tail(home)}")


def stop(home: Path, timeout_s: float = 30.0) -> bool:
    """Stop the cluster: cancel its jobs (waiting a little for them to end), then slurmd,
    slurmctld and munged, then any job step left running without its slurmd; whether any
    daemon ran."""
    conf = conf_path(home)
    if _pid(_pid_files(home)["slurmctld"]) is not None and conf.exists():
        _cancel_all(conf, deadline=time.monotonic() + min(timeout_s, 10.0))
    stopped = False
    for name in ("slurmd", "slurmctld", "munged"):
        pid = _pid(_pid_files(home)[name])
        if pid is None:
            continue
        stopped = True
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _pid(_pid_files(home)[name]) == pid and time.monotonic() < deadline:
            time.sleep(0.1)
        if _pid(_pid_files(home)[name]) == pid:
            os.kill(pid, signal.SIGKILL)
    for pid in leftover_steps(home):
        # A step whose slurmd is gone waits for it forever: nothing else would end it.
        os.kill(pid, signal.SIGKILL)
    return stopped


def _cancel_all(conf: Path, deadline: float) -> None:
    env = client_env(conf)
    if shutil.which("scancel") is None or shutil.which("squeue") is None:
        return
    subprocess.run(  # noqa: S603 - fixed argv, no shell
        [_binary("scancel"), "-p", PARTITION], capture_output=True, env=env, timeout=10,
        check=False,
    )  # fmt: skip
    while time.monotonic() < deadline:
        listed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [_binary("squeue"), "-h", "-o", "%i"], capture_output=True, text=True, env=env,
            timeout=10, check=False,
        )  # fmt: skip
        if listed.returncode != 0 or not listed.stdout.strip():
            return
        time.sleep(0.2)


def leftover_steps(home: Path) -> list[int]:
    """Job step daemons (slurmstepd) of this cluster still running: its slurmd starts them
    in its log directory, so their working directory is under `home`."""
    found = []
    root = str(home.resolve())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "slurmstepd":
                continue
            cwd = str((entry / "cwd").readlink()).removesuffix(" (deleted)")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + "/"):
            found.append(int(entry.name))
    return found
