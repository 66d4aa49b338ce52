"""One module per tab, each declaring its :class:`~nst.space.registry.Shown`; registered here in the
page's order. :mod:`~nst.space.tabs.common` holds what they share."""

from nst.space.registry import TABS, register
from nst.space.tabs import any_style, batch, fast, gatys, live, video

for _module in (fast, any_style, gatys, batch, video, live):
    register(_module.SHOWN)

__all__ = ["TABS"]
