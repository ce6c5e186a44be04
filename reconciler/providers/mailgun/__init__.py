"""Everything specific to Mailgun's exports API (``/v3/exports``).

A Mailgun export is a one-off CSV of an API list (domains, bounces, ...)
that Mailgun keeps for 24 hours: a *snapshot*, not a declarative resource.
The modules, in the order data flows through them:

- ``wire``: the API's records (``{id, status, url}``) and what an id tells;
- ``client``: the HTTP calls, auth and error wording, on ``reconciler.http``;
- ``kinds``: pure facts: URL identity, ``max_age``, an export as a core run;
- ``section``: the manifest's ``mailgun:`` section (one scope: the account);
- ``provider``: the ``SnapshotProvider`` and ``FACTORY`` the registry names;
- ``import_cmd``: ``exportctl import mailgun``;
- ``sandbox``: a local stand-in for the API, for tests and ``--sandbox``.

Run, fresh and wait are decided by the core's snapshot planner, not here.
"""
