"""Domo's "Export DataSet to S3": the provider's building blocks.

An export is a snapshot, not a resource exportctl owns: Domo runs it
asynchronously, one at a time per DataSet, and answers with the previous
export when the data has not changed. Modules, from the manifest to the wire:

- ``entries``: a ``domo.s3_exports`` manifest entry as typed values;
- ``regions``: the AWS region codes, and the nearest one to a typo;
- ``kinds``: identity, status phases and the plan's wait / fresh / run;
- ``wire``: the POST body and the status objects Domo answers with;
- ``client`` and ``connect``: the HTTP client, built from the environment;
- ``sandbox``: a local server that behaves like Domo's API.

The seam adapter (``Provider``) is not here yet: the seam is being redesigned.
"""
