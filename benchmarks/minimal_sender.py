"""One wheel to a sink: the form by hand, Expect: 100-continue, sha256 in a second thread."""

import hashlib
import os
import queue
import socket
import sys
import threading

path, port, b = sys.argv[1], int(sys.argv[2]), "minimal-boundary"
size, h, q = os.path.getsize(path), hashlib.sha256(), queue.Queue(8)
hasher = threading.Thread(target=lambda: [h.update(c) for c in iter(q.get, None)])
hasher.start()
name = f'form-data; name="content"; filename="{os.path.basename(path)}"'
head = f"--{b}\r\nContent-Disposition: {name}\r\n\r\n".encode()
end = 'form-data; name="sha256_digest"\r\n\r\n{}\r\n--' + b + "--\r\n"
tail = lambda digest: f"\r\n--{b}\r\nContent-Disposition: {end.format(digest)}".encode()  # noqa: E731
length = len(head) + size + len(tail("0" * 64))
s = socket.create_connection(("127.0.0.1", port))
s.sendall(f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n".encode())
s.sendall(
    f"Content-Type: multipart/form-data; boundary={b}\r\nExpect: 100-continue\r\n\r\n".encode()
)
assert s.recv(64).startswith(b"HTTP/1.1 100"), "no 100 Continue"
s.sendall(head)
with open(path, "rb", buffering=0) as f:
    while c := f.read(1 << 19):
        q.put(c)
        s.sendall(c)
q.put(None)
hasher.join()
s.sendall(tail(h.hexdigest()))
sys.exit(0 if s.recv(4096).startswith(b"HTTP/1.1 200") else 1)
