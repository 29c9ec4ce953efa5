"""HTTP delivery: answers parsed per item, failures keep the batch, a rotated token is picked up."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from galenic.gateway.delivery import DeliveryFailed, HttpDelivery


class FakeServer(BaseHTTPRequestHandler):
    token = "GW:new"
    received: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self._answer(401, {"code": "not_authenticated", "message": "Log in first."})
            return
        FakeServer.received.append(body)
        self._answer(
            200,
            {
                "accepted": 1,
                "duplicates": 0,
                "rejected": [{"index": 1, "code": "x", "reason": "bad"}],
            },
        )

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_rotated_token_is_read_from_the_token_file(server, tmp_path):
    token_file = tmp_path / "gw.token"
    token_file.write_text("GW:old\n")
    delivery = HttpDelivery(server, "GW:old", token_file=token_file)
    with pytest.raises(DeliveryFailed) as refused:
        delivery.send(['{"seq": 1}', '{"seq": 2}'])
    assert refused.value.status == 401
    token_file.write_text("GW:new\n")  # an admin issued a new token
    with pytest.raises(DeliveryFailed):
        delivery.send(['{"seq": 1}'])  # this 401 makes it re-read the file
    result = delivery.send(['{"seq": 1}', '{"seq": 2}'])
    assert (result.accepted, result.rejected) == (1, {1: "bad"})
    assert FakeServer.received[-1] == {"items": [{"seq": 1}, {"seq": 2}]}


def test_unreachable_server_keeps_the_batch():
    with pytest.raises(DeliveryFailed, match="unreachable") as failed:
        HttpDelivery("http://127.0.0.1:9", "t", timeout=2).send(["{}"])
    assert failed.value.retry
