"""After an upload is committed through the upload page, the committing worker scores the new data
version once the response has been sent (pages/upload.py), so the next viewer in any worker loads the
stored result instead of computing it (issue 15: first view after a commit)."""
from __future__ import annotations

import base64
import json

from data import results_store, services
from tests.conftest import login
from tests.test_publication_callbacks import _callback

P = "2026H1"


def test_a_commit_leaves_the_new_version_scored_and_stored(client, app_db):
    login(client, "inspector")
    services.score_period(P, app_db)
    v0 = results_store.version(app_db, P).data_version
    csv = "data:text/csv;base64," + base64.b64encode("单位编码,支委会次数\nC01,2\n".encode()).decode()
    values = {"upload-commit.n_clicks": 1, "upload-file.contents": csv, "upload-file.filename": "a.csv",
              "upload-period-store.data": P}
    key, cb = _callback(client, "upload-result.children", "upload-commit.n_clicks")

    def spec(items):
        return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                for i in items]

    outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
               for o in key[2:-2].split("...")]
    resp = client.post("/_dash-update-component", content_type="application/json", data=json.dumps({
        "output": key, "outputs": outputs, "inputs": spec(cb["inputs"]), "state": spec(cb.get("state", [])),
        "changedPropIds": ["upload-commit.n_clicks"]}))
    assert resp.status_code == 200 and "已提交" in json.dumps(resp.get_json(), ensure_ascii=False)
    resp.close()  # as the WSGI server does once the body is sent: the scoring runs now
    v1 = results_store.version(app_db, P).data_version
    assert v1 > v0
    stored = results_store.stored_versions(app_db, P)
    assert ("score", v1) in {(kind, version) for kind, version, _ in stored}
    assert ("gaps", v1) in {(kind, version) for kind, version, _ in stored}
    # Another worker (nothing in memory) loads it: no engine run.
    results_store.clear_memory()
    results_store.STATS.reset()
    services.score_period(P, app_db)
    assert results_store.STATS.snapshot()["engine_runs"] == 0
