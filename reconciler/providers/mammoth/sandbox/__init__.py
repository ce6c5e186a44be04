"""The sandbox's Mammoth API: exports and jobs under ``/api/v2``, backed by SQLite.

See ``docs/sandbox.md``. Modules, in request order: ``app`` (routes, auth)
-> ``validation`` (request bodies) -> ``service`` (operations) ->
``pipeline`` / ``rules`` / ``jobs`` / ``listing`` -> ``store`` (SQLite). The
provider-neutral parts (fault knobs, the socket server, the in-process
transport) live in ``reconciler.sandbox``.
"""
