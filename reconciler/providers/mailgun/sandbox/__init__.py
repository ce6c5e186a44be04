"""The sandbox's Mailgun exports API under ``/v3/exports``, backed by SQLite.

Modules, in request order: ``app`` (routes, Basic auth, faults, the clock's
``Date``) -> ``service`` (the API's rules: one export per URL at a time,
completion after a delay, 24-hour expiry) -> ``lists`` (the API lists an
export copies, as CSV) and ``signing`` (the temporary file links) ->
``store`` (SQLite). The provider-neutral parts (fault knobs, clock, socket
server, in-process transport) live in ``reconciler.sandbox``.
"""
