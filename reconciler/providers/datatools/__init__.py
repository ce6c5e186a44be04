"""The data-tools provider's parts: its export templates and export jobs API.

"data-tools" is the export API of a Django application (HydroML), mounted
under ``/tools/api/v1/`` and reached with a Django session, not a token. The
modules, from the wire inwards:

- ``settings``: ``DATATOOLS_*`` from the environment, checked once;
- ``cookies`` and ``login``: the session cookie, the CSRF token, logging in;
- ``wording``: what the API's errors mean, in words;
- ``wire``: its answers parsed into ``Template`` and ``ExportJob``;
- ``server_clock``: the server's time, read from each answer's ``Date``;
- ``client``: ``DatatoolsClient``, the operations, and ``connect``;
- ``filters``, ``templates``, ``snapshots``: the kind facts, pure (no I/O):
  what the server keeps of a request, identity, markers, a job's state;
- ``kind``: templates as the core's ``ResourceKind``;
- ``section`` and ``manifest``: the ``datatools:`` section's JSON Schema and
  its ``SectionLoader``;
- ``provider``: the provider the registry opens (``FACTORY``);
- ``sandbox``: a local server that behaves like the real one.
"""
