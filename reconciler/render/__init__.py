"""Views for people: the plan, the drift report and apply's summary, as text and Markdown.

Each is rendered from a versioned JSON form, never from the dataclasses, so
what ``plan`` prints, what ``plan --format json`` emits and what a PR comment
shows can never disagree. The plan's and the apply result's JSON forms live
outside this package (``plan_json.py``, ``apply/result_json.py``): they are
machine interfaces that saved plans and scripts read back, not views.
"""
