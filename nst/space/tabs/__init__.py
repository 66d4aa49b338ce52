"""One module per tab, each ``tab(page, handlers)``; :mod:`~nst.space.tabs.common` holds what they share."""
