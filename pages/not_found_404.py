"""The 404 body Dash pages shows for an unknown path (inside the app frame)."""
import dash

from components.shell import make_error_body

dash.register_page(__name__, path="/404", name="未找到", title="未找到 · 党建工作考核系统", nav=False)


def layout(**_):
    return make_error_body(404)
