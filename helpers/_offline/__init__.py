"""The offline model's parts; ``helpers.offline`` is their public face.

- ``request``: validation (``schema`` checks the spec's types and enums) returning a typed Request
- ``replies``: canned replies as data keyed by language, name recall
- ``tools`` and ``structured``: function calling, JSON modes and structured outputs
- ``wire``: the JSON body and the server-sent events, logprobs
- ``api``: ``OfflineAPI``, behind an httpx2 transport (sync or async)
- ``server``: the same model over HTTP (starlette + uvicorn), ``python -m helpers.offline serve``
"""
