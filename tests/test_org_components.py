"""The unit tree is one escaped HTML fragment: names from uploaded files never become markup."""
from components.org import make_unit_tree


def test_unit_names_are_escaped_in_the_tree():
    unit = dict(code="X1", name='<img src=x onerror="alert(1)">', kind="党支部", category="县局支部",
                secretary="<b>张</b>", members_full=5, members_probationary=0, assessed=True, children=[])
    tree = make_unit_tree([{"bureau": "临河县局<script>", "units": [unit], "count": 1}])
    body = tree.children
    assert "<img" not in body and "<script>" not in body and "<b>" not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body and "临河县局&lt;script&gt;" in body
    assert 'data-code="X1"' in body and tree.dangerously_allow_html


def test_an_empty_tree_says_what_to_do():
    assert "导入单位名单" in make_unit_tree([]).children
