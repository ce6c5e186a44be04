"""Everything specific to Mailgun's exports API (``/v3/exports``).

A Mailgun export is a one-off CSV of an API list (domains, bounces, ...)
that Mailgun keeps for 24 hours: a *snapshot*, not a declarative resource.
The modules, in the order data flows through them:

- ``wire``: the API's records (``{id, status, url}``) and what an id tells;
- ``client``: the HTTP calls, auth and error wording, on ``reconciler.http``;
- ``kinds``: pure facts: URL identity, statuses, ``max_age``, run/fresh/wait;
- ``section``: the manifest's ``mailgun:`` section, its schema and snapshots;
- ``sandbox``: a local stand-in for the API, for tests and ``--sandbox``.

The provider seam (``reconciler.providers.base``) does not wrap these yet.
"""
