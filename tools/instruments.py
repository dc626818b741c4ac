"""Which instrument a request's symbol names. A symbol is resolved with its quote currency
and venue; one the desk does not hold is never mapped to another instrument.

- `bitstamp:BTC/USD` names that instrument exactly (venue and pair).
- `BTC/USD` names the pair on whichever venue holds it, if exactly one does.
- `BTC` (a bare base, or a symbol without a quote such as `GOOG`) names the desk's one
  instrument with that symbol or that base currency, if exactly one exists. With two
  (say BTC/USD and BTC/EUR) it is ambiguous and refused: the answer lists both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# venue:BASE/QUOTE, venue:SYMBOL, BASE/QUOTE or SYMBOL; ASCII only, so a look-alike letter
# cannot pass for a held symbol.
_SYMBOL = re.compile(
    r"(?:(?P<venue>[a-z][a-z0-9_-]{0,19}):)?"
    r"(?P<base>[a-z][a-z0-9.]{0,15})(?:/(?P<quote>[a-z][a-z0-9]{0,15}))?",
    re.IGNORECASE | re.ASCII,
)


@dataclass(frozen=True)
class Instrument:
    """One instrument the desk holds limits for."""

    venue: str
    symbol: str

    @property
    def id(self) -> str:
        return f"{self.venue}:{self.symbol}"

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]


@dataclass(frozen=True)
class NoInstrument:
    """Why a symbol names no instrument: not held, or ambiguous between `candidates`."""

    asked: str
    candidates: tuple[str, ...]
    tradable: tuple[str, ...]

    @property
    def message(self) -> str:
        shown = self.asked if len(self.asked) <= 40 else self.asked[:40] + "…"
        if self.candidates:
            return (
                f"{shown!r} could be {' or '.join(self.candidates)}: say which "
                f"(this desk trades {', '.join(self.tradable)})"
            )
        return f"no instrument {shown!r} on this desk; it trades {', '.join(self.tradable)}"


@dataclass(frozen=True)
class InstrumentBook:
    """The desk's instruments, from its gate limits (`venue:SYMBOL` ids)."""

    instruments: tuple[Instrument, ...]

    @classmethod
    def of(cls, ids: Iterable[str]) -> InstrumentBook:
        pairs = (i.split(":", 1) for i in ids)
        return cls(tuple(Instrument(venue, symbol) for venue, symbol in pairs))

    @property
    def tradable(self) -> tuple[str, ...]:
        return tuple(sorted(i.id for i in self.instruments))

    def resolve(self, asked: str) -> Instrument | NoInstrument:
        """The one instrument `asked` names, or why there is none."""
        parsed = _SYMBOL.fullmatch(asked.strip())
        if parsed is None:
            return NoInstrument(asked, (), self.tradable)
        venue = (parsed["venue"] or "").lower()
        base = parsed["base"].upper()
        quote = (parsed["quote"] or "").upper()
        found = [i for i in self.instruments if not venue or i.venue.lower() == venue]
        if quote:
            found = [i for i in found if i.symbol.upper() == f"{base}/{quote}"]
        else:
            exact = [i for i in found if i.symbol.upper() == base]
            found = exact or [i for i in found if "/" in i.symbol and i.base.upper() == base]
        if len(found) == 1:
            return found[0]
        return NoInstrument(asked, tuple(sorted(i.id for i in found)), self.tradable)
