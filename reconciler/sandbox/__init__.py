"""The sandbox: real HTTP servers that behave like the providers' APIs.

``server`` runs the app on a loopback socket and ``transport`` in-process;
``config`` and ``faults`` are the fault knobs every provider's API shares;
``drop`` and ``problems`` are how a fault or an error reaches the client.
Each provider's own API lives in its package (``providers/<name>/sandbox``).
"""
