"""A local, real HTTP server that behaves like Mammoth's exports and jobs API.

See ``docs/sandbox.md``. Modules, in request order: ``app`` (routes, auth,
faults middleware) -> ``validation`` (request bodies) -> ``service``
(operations) -> ``pipeline`` / ``rules`` / ``jobs`` / ``listing`` -> ``store``
(SQLite). ``server`` and ``transport`` run the app on a socket or in-process.
"""
