"""Core node functions: pass, zip and join the elements of an inbox.

These are the fan-in/fan-out helpers of the original PaPy.  Like every node
function they take an *inbox* -- a tuple with one element per incoming pipe --
plus their own arguments, and return one object:

* ``ipasser``  -- one element (``inbox[i]``);
* ``npasser``  -- the first ``n`` elements, as a tuple (``inbox[:n]``);
* ``spasser``  -- the elements at the indices in ``s``, as a list;
* ``nzipper``  -- the first ``n`` elements zipped together, as a list of tuples;
* ``szipper``  -- the elements at the indices in ``s`` zipped together;
* ``njoiner``  -- the first ``n`` elements joined into one string;
* ``sjoiner``  -- the elements at the indices in ``s`` joined into one string;
* ``plugger``  -- nothing (``None``): a sink that ends a branch.

Results are plain lists, tuples and strings -- never iterators -- so that they
pickle between processes.  Indices in ``s`` keep the inbox order, whatever
their own order (as in the original), and an ``s`` of ``None`` means "every
element".

Two deliberate differences from the Python 2 original: ``nzipper`` returns
all the zipped tuples (the original returned only the first one, contrary to
its own documentation), and ``szipper``/``sjoiner`` accept ``s=None`` (the
original raised a ``TypeError``).
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

__all__ = ["ipasser", "npasser", "spasser", "nzipper", "szipper", "njoiner",
           "sjoiner", "plugger"]


def _select(inbox: tuple, s: Collection[int] | None) -> list:
    """The elements of ``inbox`` whose index is in ``s`` (all when None), in inbox order."""
    if s is None:
        return list(inbox)
    wanted = set(s)
    for i in wanted:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"'s' must hold int indices (got {i!r} that is a "
                            f"{type(i).__name__})")
    return [element for i, element in enumerate(inbox) if i in wanted]


def plugger(inbox: tuple) -> None:
    """Swallow the inbox and return None: a sink that ends a branch."""
    return None


def ipasser(inbox: tuple, i: int = 0) -> Any:
    """Pass on the ``i``-th element of the inbox (by default the first).

    Args:
        i: index of the input pipe to pass on (negative counts from the end).
    """
    return inbox[i]


def npasser(inbox: tuple, n: int | None = None) -> tuple:
    """Pass on the first ``n`` elements of the inbox as a tuple (all when None).

    Args:
        n: how many elements to keep.
    """
    return tuple(inbox[:n])


def spasser(inbox: tuple, s: Collection[int] | None = None) -> list:
    """Pass on the elements whose index is in ``s`` as a list, in inbox order.

    Args:
        s: indices of the input pipes to keep; None keeps them all.
    """
    return _select(inbox, s)


def nzipper(inbox: tuple, n: int | None = None) -> list[tuple]:
    """Zip the first ``n`` elements of the inbox (all when None).

    Each element must be a sequence; the result is the list of tuples that
    ``zip`` makes of them, as long as the shortest element.

    Args:
        n: how many elements to zip.
    """
    return list(zip(*inbox[:n]))


def szipper(inbox: tuple, s: Collection[int] | None = None) -> list[tuple]:
    """Zip the elements whose index is in ``s`` (all when None), in inbox order.

    Args:
        s: indices of the input pipes to zip.
    """
    return list(zip(*_select(inbox, s)))


def njoiner(inbox: tuple, n: int | None = None, join: str = "") -> str:
    """Join the first ``n`` elements of the inbox (strings) with ``join``.

    Args:
        n: how many elements to join; None joins them all.
        join: the separator placed between elements.
    """
    return join.join(inbox[:n])


def sjoiner(inbox: tuple, s: Collection[int] | None = None, join: str = "") -> str:
    """Join the elements whose index is in ``s`` (strings) with ``join``.

    Args:
        s: indices of the input pipes to join, kept in inbox order; None joins all.
        join: the separator placed between elements.
    """
    return join.join(_select(inbox, s))
