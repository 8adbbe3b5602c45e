"""Compression and cache lifetimes of what the browser downloads (issue 15 item 3)."""
from __future__ import annotations

import re


def test_component_files_are_compressed_and_cached_for_a_year(client, app_db):
    from tests.conftest import login

    login(client, "leader")
    html = client.get("/", headers={"Accept-Encoding": "br, gzip"})
    js = re.findall(r'src="(/_dash-component-suites/[^"]+\.js)"', html.get_data(as_text=True)
                    if html.headers.get("Content-Encoding") is None else _decoded(html))
    assert js, "no component scripts linked"
    r = client.get(js[0], headers={"Accept-Encoding": "br, gzip"})
    assert r.status_code == 200 and r.headers.get("Content-Encoding") in ("br", "gzip")
    assert "max-age=31536000" in r.headers["Cache-Control"] and "immutable" in r.headers["Cache-Control"]


def test_own_assets_with_a_fingerprint_are_cached_for_a_year_without_one_revalidated(client, app_db):
    r = client.get("/assets/app.css?m=123")
    assert r.status_code == 200 and "max-age=31536000" in r.headers.get("Cache-Control", "")
    plain = client.get("/assets/app.css")
    assert "max-age=31536000" not in plain.headers.get("Cache-Control", "")


def test_callback_responses_are_compressed(client, app_db):
    from tests.conftest import login

    login(client, "leader")
    r = client.get("/_dash-layout", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers.get("Content-Encoding") == "gzip" or len(r.get_data()) < 500


def _decoded(resp) -> str:
    import gzip

    import brotli

    body = resp.get_data()
    return (brotli.decompress(body) if resp.headers["Content-Encoding"] == "br" else gzip.decompress(body)).decode()
