"""How a large request body is read from the server: in large pieces, and never past its end."""
import io
import os

from certify.request_limits import LARGE_READ_BYTES, read_large_bodies_in_large_pieces

WERKZEUG_READ_BYTES = 64 * 1024


class ServerInput(io.BytesIO):
    """A server's wsgi.input that does not end where the body does (the connection's next request follows), and
    records the size of every read asked of it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size=-1):
        self.asked.append(size)
        return super().read(size)


def body_read_64k_at_a_time(environ, start_response):
    """An application reading its body as werkzeug's multipart parser does."""
    start_response("200 OK", [])
    chunks = []
    while chunk := environ["wsgi.input"].read(WERKZEUG_READ_BYTES):
        chunks.append(chunk)
    return [b"".join(chunks)]


def test_a_large_body_is_read_from_the_server_in_large_pieces_and_never_past_its_end():
    body = os.urandom(3 * LARGE_READ_BYTES + 1234)
    server_input = ServerInput(body + b"POST /next HTTP/1.1\r\n")
    app = read_large_bodies_in_large_pieces(body_read_64k_at_a_time)
    answer = app({"CONTENT_LENGTH": str(len(body)), "wsgi.input": server_input}, lambda *_: None)
    assert b"".join(answer) == body
    assert server_input.read() == b"POST /next HTTP/1.1\r\n"  # the next request is left where it was
    assert server_input.asked[:4] == [LARGE_READ_BYTES] * 3 + [1234]  # not 13 reads of 64 KiB


def test_a_small_body_is_left_to_the_server():
    body = b"kind=other"
    server_input = ServerInput(body)
    app = read_large_bodies_in_large_pieces(body_read_64k_at_a_time)
    assert b"".join(app({"CONTENT_LENGTH": str(len(body)), "wsgi.input": server_input}, lambda *_: None)) == body
    assert server_input.asked[0] == WERKZEUG_READ_BYTES


def test_a_body_without_a_valid_length_is_left_to_the_server():
    for length in ("", "lots"):
        server_input = ServerInput(b"data")
        environ = {"CONTENT_LENGTH": length, "wsgi.input": server_input}
        read_large_bodies_in_large_pieces(lambda environ, _: [environ["wsgi.input"]])(environ, lambda *_: None)
        assert environ["wsgi.input"] is server_input
