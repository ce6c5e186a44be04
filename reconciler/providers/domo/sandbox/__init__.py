"""The sandbox's Domo export API under ``/api/query/v1/export``, backed by SQLite.

Modules, in request order: ``app`` (routes, token, faults, the clock's
``Date``) -> ``validation`` (request bodies) -> ``service`` (Domo's rules)
-> ``store`` (SQLite); ``settings`` holds the token and the timestamp form.
The provider-neutral parts (fault knobs, clock, socket server) live in
``reconciler.sandbox``.
"""
