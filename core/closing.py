"""One `with` protocol for everything the desk opens and must close."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """`with X(...) as x:` closes x on the way out, however it leaves."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
