#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""keepalive.py VIP COOKIE GOFILE - two requests on one kept-alive
connection, the second once GOFILE exists; prints "before BODY" and
"after BODY" (nginx's body names the pod that answered)."""
import os
import socket
import sys
import time

vip, cookie, go = sys.argv[1:]
s = socket.create_connection((vip, 80), timeout=10)
req = ("GET /cookie HTTP/1.1\r\nHost: www.example.com\r\nCookie: %s\r\n\r\n"
       % cookie).encode()


def ask():
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n\r\n", 1)[-1].decode().strip()


print("before", ask(), flush=True)
for _ in range(100):
    if os.path.exists(go):
        break
    time.sleep(0.1)
print("after", ask(), flush=True)
