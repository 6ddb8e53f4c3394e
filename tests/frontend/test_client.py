"""BackendClient: typed errors with the backend's detail, unreachable URL named."""

from __future__ import annotations

import json

import httpx
import pytest

from frontend.client import BackendClient, BackendError, BackendUnreachable, error_detail
from frontend.ui import error_message
from tests.servers import free_port


def mock_client(handler) -> BackendClient:
    return BackendClient("http://backend.test", "tok", transport=httpx.MockTransport(handler))


def test_token_sent_and_json_returned() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        return httpx.Response(202, json={"task_id": "t1", "model_id": "m1"})

    assert mock_client(handler).fit({"name": "x"}) == {"task_id": "t1", "model_id": "m1"}
    assert seen == {"auth": "Bearer tok", "body": {"name": "x"}}


def test_detail_becomes_backend_error() -> None:
    client = mock_client(lambda request: httpx.Response(409, json={"detail": "model not loaded"}))
    with pytest.raises(BackendError) as caught:
        client.predict("m", ["hi"])
    assert (caught.value.status, caught.value.detail) == (409, "model not loaded")
    assert error_message(caught.value) == "Backend error 409: model not loaded"


def test_validation_list_is_readable() -> None:
    response = httpx.Response(
        422,
        json={"detail": [{"loc": ["body", "params", "C"], "msg": "Input should be > 0"}]},
    )
    assert error_detail(response) == "params.C: Input should be > 0"
    assert error_detail(httpx.Response(502, text="Bad gateway")) == "Bad gateway"


def test_unreachable_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = BackendClient(url, timeout=2)
    with pytest.raises(BackendUnreachable) as caught:
        client.list_models()
    assert caught.value.url == url + "/api/v1/models/"
    assert url in error_message(caught.value)
