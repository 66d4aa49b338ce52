"""The Gradio Space, on the surfaces floor: one module per job, built by :func:`nst.space.layout.build`.

- :mod:`~nst.space.registry`: each method's tab, declared once, by its id;
- :mod:`~nst.space.presets`: the methods' options for a shared machine, from the settings;
- :mod:`~nst.space.components`: inputs that reach the app undecoded, outputs sent inline;
- :mod:`~nst.space.fetching`: the one Gradio method overridden outside its documented API;
- :mod:`~nst.space.uploads`: decoding uploads, their caps, region masks;
- :mod:`~nst.space.results`: the result files, their cleaning, the before/after pane;
- :mod:`~nst.space.admission`: queue lanes, Live streams, the endpoints' ZeroGPU decorator;
- :mod:`~nst.space.handlers`: the endpoints (the API and MCP tools);
- :mod:`~nst.space.tabs`: one module per tab, registered in the page's order;
- :mod:`~nst.space.layout`: the page, ``build(settings) -> gr.Blocks``.

Importing any of them loads no network and writes no file: :func:`~nst.space.layout.build` does
the start-up work.
"""
