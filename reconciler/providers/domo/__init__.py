"""Domo's "Export DataSet to S3": the provider's building blocks.

An export is a snapshot, not a resource exportctl owns: Domo runs it
asynchronously, one at a time per DataSet, and answers with the previous
export when the data has not changed. Modules, from the manifest to the wire:

- ``entries``: a ``domo.s3_exports`` manifest entry as typed values;
- ``regions``: the AWS region codes, and the nearest one to a typo;
- ``kinds``: identity, status phases, a listed export as the core planner reads it;
- ``section``: the ``domo:`` manifest section, checked and turned into scopes;
- ``wire``: the POST body and the status objects Domo answers with;
- ``client`` and ``connect``: the HTTP client, built from the environment;
- ``provider``: the ``SnapshotProvider`` and the registry's ``FACTORY``;
- ``sandbox``: a local server that behaves like Domo's API.
"""
