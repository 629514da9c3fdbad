"""The service (DESIGN 12): ``ms-prcs serve``, an HTTP API with real sign-in over the same library as the CLI.

Modules: :mod:`app` (the factory), :mod:`context` (settings, engine), :mod:`security` (hashes, tokens,
cookies), :mod:`credentials` (passwords, sign-in, tokens), :mod:`rights` (coarse rights and their roles),
:mod:`deps` (authentication dependencies), :mod:`problems` (errors), :mod:`accesslog`, :mod:`launch` (runs
started over HTTP), :mod:`models` (request and response bodies) and ``routes/`` (one module per resource).
"""
