"""How numbers, shares, dates, counts and missing figures are written, everywhere tracker writes them.

Plain functions: the template filters (`tracker.templating.filters`) wrap them for the pages
and messages, and the CLI calls them for the terminal, so that a figure reads the same in
all three. A missing figure is always an em dash, a negative one has a true minus sign.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from urllib.parse import urlsplit

NONE = "\u2014"
"""What stands for a missing figure (an em dash): a figure that cannot be worked out yet."""
MINUS = "\u2212"  # a true minus sign: a hyphen looks wrong next to digits
DASH = "\u2013"  # between the ends of a range
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def number(x: float | None, digits: int = 3, *, signed: bool = False) -> str:
    """A plain decimal ("0.213", "+0.12" when `signed`), or NONE for none."""
    if x is None:
        return NONE
    text = f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"
    return text.replace("-", MINUS)


def percent(x: float | None) -> str:
    """A share as a whole percentage ("68%"), or NONE for none."""
    if x is None:
        return NONE
    return f"{x * 100:.0f}%"


def interval(low: float | None, high: float | None, fmt: str = "num") -> str:
    """A range as "0.120 to 0.250 (an en dash between)" (percentages with fmt "pct"); "" for none."""
    if low is None or high is None:
        return ""
    show = percent if fmt == "pct" else number
    return f"{show(low)}{DASH}{show(high)}"


def plural(n: int, one: str, many: str | None = None) -> str:
    """ "1 claim", "1,204 claims" (`many` for an irregular plural)."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


# Cached: a site has far fewer distinct dates than claims, and writes one per claim or more.
@lru_cache(maxsize=100_000)
def _date_text(d: dt.date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def date(d: dt.date | None) -> str:
    """ "16 Nov 2017" (the day of a datetime, as it is), or NONE for none."""
    if d is None:
        return NONE
    if isinstance(d, dt.datetime):
        d = d.date()
    return _date_text(d)


def month(d: dt.date) -> str:
    """ "Nov 2017"."""
    return f"{MONTHS[d.month - 1]} {d.year}"


def moment(at: dt.datetime | None) -> str:
    """ "16 Nov 2017 09:00 CET", in `at`'s own timezone; NONE for none."""
    if at is None:
        return NONE
    return f"{date(at.date())} {at:%H:%M %Z}".rstrip()


def host(url: str) -> str:
    """The site a URL points at, as link text: "bbc.com" reads better than the whole address."""
    found = urlsplit(url).hostname or url
    return found.removeprefix("www.")
