"""Views of a plan: its versioned JSON form, and text / Markdown rendered from it.

The human forms are rendered from the JSON form, never from the dataclasses,
so what ``plan`` prints, what ``plan --format json`` emits and what a PR
comment shows can never disagree.
"""
