"""Apply: make the platform match a plan, safely, and say what happened.

The flow, one module per concern: ``safety`` refuses what must not be done
(protect, --max-deletes) before anything is sent; ``preflight`` sends every
add and edit with ``validate_only`` and mutates nothing if one fails;
``steps`` orders each dataview's work; ``execute`` runs dataviews in parallel,
follows jobs (``jobs``) and never repeats a mutation that may have landed
without first looking (``landed``); ``result`` is what comes back, and
``result_json`` its versioned JSON form (``render/apply_report`` turns that
into the summary a person reads).
"""
