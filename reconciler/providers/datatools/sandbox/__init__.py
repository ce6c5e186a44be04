"""The sandbox's data-tools API: HydroML's export templates and jobs, backed by SQLite.

A real Starlette app (``app.create_app``) that answers the real paths
(``/accounts/login/``, ``/tools/api/v1/...``) with the real status codes,
bodies and quirks that ``FACTS.md`` records for the Django project: session
login with CSRF, generic 400s, HTML 404 pages, PUT's shallow merge, dropped
filter keys, jobs that run on a clock, the broken retry. Modules, in request
order: ``app`` (routes, middleware, admin) -> ``auth`` (sessions, CSRF,
login) -> ``validation`` (the server's checks of a request) -> ``service``
(operations) -> ``worker`` (jobs over time) -> ``representation`` (answers)
-> ``store`` (SQLite); ``seed`` fills a new database, ``knobs`` holds the
data-tools settings beside the shared fault knobs of ``reconciler.sandbox``.
"""
