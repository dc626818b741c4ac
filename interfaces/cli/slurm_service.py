"""The local SLURM cluster as one of `quantdesk services`: up, down and status
(deploy/slurm/launcher.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

from deploy.slurm import launcher

if TYPE_CHECKING:
    from pathlib import Path

    from core.settings import Settings


def local_cluster_home(settings: Settings) -> Path:
    from tools.research.cluster import local_conf

    return local_conf(settings).parent


def slurm_up(settings: Settings, console: Console) -> None:
    if settings.slurm_conf:
        console.print(f"QUANTDESK_SLURM_CONF is set ({settings.slurm_conf}); no SLURM started")
        return
    home = local_cluster_home(settings)
    try:
        with console.status("starting SLURM (munged, slurmctld, slurmd)"):
            conf = launcher.start(home.resolve(), port=settings.slurm_port)
    except launcher.SlurmLaunchError as exc:
        console.print(f"[red]slurm:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(
        f"slurm up: partition {launcher.PARTITION} on node {launcher.NODE}, controller "
        f"127.0.0.1:{settings.slurm_port}; SLURM_CONF={conf}"
    )


def slurm_down(settings: Settings, console: Console) -> None:
    home = local_cluster_home(settings)
    if launcher.conf_path(home).exists():
        stopped = launcher.stop(home)
        console.print("slurm stopped" if stopped else "slurm was not running")


def slurm_status(settings: Settings, console: Console) -> None:
    if settings.slurm_conf:
        console.print(f"slurm: external, {settings.slurm_conf}")
        return
    shown = launcher.status(local_cluster_home(settings))
    if shown.running:
        console.print(f"slurm: running (slurmctld pid {shown.pids['slurmctld']}); {shown.conf}")
    else:
        console.print("slurm: stopped")
