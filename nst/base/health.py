"""Whether a method can run now, in one shape for every method."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Health:
    """A method's state: ``ready``, or not, and ``why`` in one line (for a ready method, what part of
    it is missing, if any: Hub styles not yet cached, say)."""

    ready: bool
    why: str = ""

    @property
    def partial(self) -> bool:
        """Ready, but with something missing."""
        return self.ready and bool(self.why)
