"""Elements of the few large tables drawn on every view, as the JSON Dash sends for them.

A Dash component object costs about 40 µs to build and serialise (each keyword is checked against the
component's property names, and serialising walks every property the component could have). The
branch page draws about 1,200 of them, most in its 46-row item table and its activity calendar: 40 of
the 95 ms a warm view took at 10,000 units, and every view of a random unit is a first view.

``el(html.Td, children, className=...)`` returns what ``html.Td(children, className=...).to_plotly_json()``
would: the same JSON, so the same DOM, the same ids and the same callbacks, at a twentieth of the cost.
What it gives up is the keyword check; ``checked()`` turns it back on (every ``el`` then builds the
real component), and tests/components/test_lite.py renders the branch page both ways and requires the
same JSON. Use it only in builders of many rows; everywhere else the plain components are clearer.
"""
from __future__ import annotations

from contextlib import contextmanager

_CHECK = False


def el(cls, children=None, **props) -> dict:
    """``cls(children, **props)`` as JSON-ready data. ``cls``: a Dash component class (``html.Td``, ``dbc.Badge``)."""
    if _CHECK:
        return cls(children, **props).to_plotly_json()
    props["children"] = children
    return {"props": props, "type": cls._type, "namespace": cls._namespace}


@contextmanager
def checked():
    """Build real components inside the block (the reference the fast form is tested against)."""
    global _CHECK
    before, _CHECK = _CHECK, True
    try:
        yield
    finally:
        _CHECK = before
