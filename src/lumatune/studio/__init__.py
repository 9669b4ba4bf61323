"""lumatune.studio: a local web app to develop, tune and compare looks on the raws of one folder.

-   :mod:`~lumatune.studio.workspace`: the folder (only paths under it), raws kept decoded and binned, renders;
-   :mod:`~lumatune.studio.server`: the Starlette app (token, Host check, JSON errors) and :func:`serve`;
-   ``static/``: the HTML, CSS and JavaScript of the page (shipped as package data; nothing to build).
"""
