"""Both attachment stores pass the same tests: a folder, and S3 through boto3 against moto's server."""
from __future__ import annotations

import hashlib
import socket

import pytest

from data import attachment_store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    env = {"ATTACHMENT_S3_BUCKET": f"dangjian-{_free_port()}", "ATTACHMENT_S3_ENDPOINT_URL": s3_endpoint,
           "ATTACHMENT_S3_REGION": "us-east-1"}
    return env


@pytest.fixture(params=["disk", "s3"])
def store(request, tmp_path):
    if request.param == "disk":
        st = attachment_store.store_from_env({"ATTACHMENT_DIR": str(tmp_path / "files")})
        assert isinstance(st, attachment_store.DiskStore)
        return st
    st = attachment_store.store_from_env(request.getfixturevalue("s3_env"))
    assert isinstance(st, attachment_store.S3Store)
    st.create_bucket()
    return st


def key_for(data: bytes, ext: str = "pdf") -> str:
    sha = hashlib.sha256(data).hexdigest()
    return f"{sha[:2]}/{sha}.{ext}"


def test_put_get_exists_delete_round_trip(store):
    data = b"%PDF-1.4 minutes"
    key = key_for(data)
    assert not store.exists(key)
    store.put(key, data)
    assert store.exists(key)
    assert store.get(key) == data
    store.put(key, data)  # same content, same key: harmless
    assert store.get(key) == data
    store.delete(key)
    assert not store.exists(key)


def test_missing_object_is_reported(store):
    with pytest.raises(attachment_store.MissingObject):
        store.get(key_for(b"never stored"))


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab/../../x.pdf", "/abs/path.pdf", "ab/" + "0" * 64 + ".html",
                                 "ab/xyz.pdf", ""])
def test_keys_outside_the_pattern_never_reach_the_backend(store, bad):
    with pytest.raises(ValueError):
        store.put(bad, b"x")
    with pytest.raises(ValueError):
        store.get(bad)


def test_disk_store_writes_under_its_root_only(tmp_path):
    st = attachment_store.DiskStore(tmp_path / "root")
    data = b"\x89PNG\r\n\x1a\n"
    st.put(key_for(data, "png"), data)
    files = [p for p in (tmp_path / "root").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [key_for(data, "png").split("/")[1]]


def test_default_is_the_instance_folder_without_configuration():
    st = attachment_store.store_from_env({})
    assert isinstance(st, attachment_store.DiskStore)
    assert st.root.parts[-2:] == ("instance", "attachments")


def test_the_service_works_on_s3(s3_env, seeded_sqlite):
    """Upload through the service into S3, read back through the service: the same bytes and thumbnail."""
    from data import attachments
    from tests.data.test_attachments import PNG, principal

    st = attachment_store.store_from_env(s3_env)
    st.create_bucket()
    aid = attachments.attach_to_item(principal(seeded_sqlite, "inspector"), "2026H1", "C02", "C1", "照片.png",
                                     PNG(), db=seeded_sqlite, store=st)
    f = attachments.open_for_download(principal(seeded_sqlite, "inspector"), aid, db=seeded_sqlite)
    assert attachments.read(f, store=st)[:8] == b"\x89PNG\r\n\x1a\n"
    assert attachments.read(f, thumbnail=True, store=st)[:8] == b"\x89PNG\r\n\x1a\n"
    assert st.exists(f.storage_key) and st.exists(f.thumbnail_key)
