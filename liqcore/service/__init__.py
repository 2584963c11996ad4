"""The liqcore service: one process holding live books and serving them.

* :mod:`liqcore.service.symbols`: one instrument spelling across venues;
* :mod:`liqcore.service.hub`: :class:`BookHub`, live books subscribed on demand (real venues or
  the local simulator);
* :mod:`liqcore.service.models` / :mod:`liqcore.service.queries`: the operations as plain async
  functions returning pydantic models (what the HTTP API, the websocket and agent tools call);
* :mod:`liqcore.service.api` / :mod:`liqcore.service.ws`: FastAPI on uvicorn (``liqcore serve``).

Needs the ``service`` extra (FastAPI, uvicorn, pydantic, orjson). See ``docs/service.md``.
"""

from liqcore.service.hub import BookHub

__all__ = ["BookHub"]
