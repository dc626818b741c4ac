"""One progress bar for long CLI work over a known number of items."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def counted(console: Console, label: str, total: int) -> Iterator[Callable[[str], None]]:
    """A bar for `total` items; the callback it yields marks one done, named on the bar."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    ) as progress:  # fmt: skip
        task = progress.add_task(label, total=total)
        yield lambda name: progress.update(task, advance=1, description=f"{name[:40]:<40}")
