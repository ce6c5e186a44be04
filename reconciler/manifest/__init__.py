"""Manifest loading: YAML files in, a ``DesiredState`` or every problem out.

The modules, in the order data flows through them:

- ``files``: which files ``-f`` names (directories expand to sorted YAML files);
- ``yaml_source``: YAML to plain values with positions, safely bounded;
- ``schema_check``: JSON Schema checks, reworded into plain sentences;
- ``envsubst``: ``${env:NAME}`` references;
- ``loader``: defaults, per-handler checks, cross-file rules, the model.
"""

from reconciler.manifest.loader import check_manifest, expand_paths, load_manifest

__all__ = ["check_manifest", "expand_paths", "load_manifest"]
