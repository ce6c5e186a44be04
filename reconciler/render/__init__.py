"""Views of a plan for people: text and Markdown rendered from its JSON form.

The human forms are rendered from the versioned JSON form (``plan_json.py``,
outside this package because saved plans read it back), never from the
dataclasses, so what ``plan`` prints, what ``plan --format json`` emits and
what a PR comment shows can never disagree.
"""
