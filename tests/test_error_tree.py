"""The exception tree drawn in ``reconciler.errors``' docstring is the real one.

The drawing is what a reader trusts when choosing what to raise or catch, so a
class added, removed or moved under another base must show up in it too.
"""

from __future__ import annotations

import re
import textwrap

from reconciler import errors


def _module_classes() -> list[type[BaseException]]:
    """Every exception class ``reconciler.errors`` defines, in definition order."""
    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    ]


def _children(cls: type[BaseException]) -> list[type[BaseException]]:
    """The direct subclasses of ``cls`` that the module defines, in definition order.

    Subclasses defined elsewhere (the API client's, apply's) are left out: the
    docstring draws this module's classes only.
    """
    defined = _module_classes()
    return sorted((c for c in cls.__subclasses__() if c in defined), key=defined.index)


def _draw(classes: list[type[BaseException]], prefix: str = "") -> list[str]:
    """``classes`` as sibling branches after ``prefix``, each above its own subclasses."""
    lines: list[str] = []
    for index, cls in enumerate(classes):
        last = index == len(classes) - 1
        lines.append(f"{prefix}{'└── ' if last else '├── '}{cls.__name__}")
        lines += _draw(_children(cls), prefix + ("    " if last else "│   "))
    return lines


def real_tree() -> list[str]:
    """The tree of the classes themselves; a root is a class with no base in the module.

    ``ExportctlError`` is one; so would be any exception defined outside its tree.
    """
    defined = _module_classes()
    lines: list[str] = []
    for root in defined:
        if not any(base in defined for base in root.__bases__):
            lines += [root.__name__, *_draw(_children(root))]
    return lines


def docstring_tree() -> list[str]:
    """The tree the docstring draws: its first literal block, names only."""
    _, _, after = (errors.__doc__ or "").partition("::\n\n")
    block = textwrap.dedent(after.split("\n\n", 1)[0])
    return re.findall(r"^[│├└─ ]*\w+", block, flags=re.MULTILINE)


def test_docstring_draws_every_error_class_under_its_base() -> None:
    assert docstring_tree() == real_tree()
