#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""apiserver.py - a scripted Kubernetes API server for the watcher's tests.

It speaks the real list/watch protocol for Services and EndpointSlices over
HTTPS with a bearer token: paged lists (limit/continue) that carry a
resourceVersion; watches from a resourceVersion that replay what happened
since and then stream chunked JSON events (ADDED, MODIFIED, DELETED,
BOOKMARK when allowWatchBookmarks), and "too old resource version" as an
ERROR event with a 410 Status, or as an HTTP 410.

The test drives it through a plain-HTTP control port:
  POST /ctl/apply   body: an object (JSON)  -> ADDED or MODIFIED
  POST /ctl/delete  body: {"kind", "namespace", "name"} -> DELETED
  POST /ctl/bookmark      a BOOKMARK to the watchers (no object changes)
  POST /ctl/drop          cut every watch connection, mid-stream
  POST /ctl/expire        compact history past every client, then drop:
                          resuming watches get an in-stream ERROR 410
  POST /ctl/gone-status   like expire, but the next watch gets HTTP 410
  GET  /ctl/log           one line per API request seen
  GET  /ctl/rv            the current resourceVersion
"""
import argparse
import json
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESOURCES = {
    "/api/v1/services": ("Service", "v1", "ServiceList"),
    "/apis/discovery.k8s.io/v1/endpointslices":
        ("EndpointSlice", "discovery.k8s.io/v1", "EndpointSliceList"),
}
KIND_PATH = {v[0]: k for k, v in RESOURCES.items()}


class State:
    def __init__(self, page):
        self.cond = threading.Condition()
        self.rv = 1000
        self.objs = {}          # (kind, ns, name) -> obj
        self.history = []       # (rv, kind, type, obj)
        self.compacted = 0
        self.drop_gen = 0
        self.gone_status = False
        self.page = page
        self.log = []

    def change(self, kind, typ, obj):
        with self.cond:
            self.rv += 1
            obj = json.loads(json.dumps(obj))
            if typ != "BOOKMARK":
                obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
                key = (kind, obj["metadata"].get("namespace", "default"),
                       obj["metadata"]["name"])
                if typ == "DELETED":
                    self.objs.pop(key, None)
                else:
                    typ = "MODIFIED" if key in self.objs else "ADDED"
                    self.objs[key] = obj
            else:
                obj = {"kind": kind, "apiVersion": RESOURCES[KIND_PATH[kind]][1],
                       "metadata": {"resourceVersion": str(self.rv)}}
            self.history.append((self.rv, kind, typ, obj))
            self.cond.notify_all()
            return typ


def status(code, reason, msg):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": msg, "reason": reason, "code": code}


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):
        st = self.server.state
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        auth = self.headers.get("Authorization", "")
        res = RESOURCES.get(url.path)
        line = "%s %s rv=%s continue=%s auth=%s" % (
            "WATCH" if q.get("watch") else "LIST", res[0] if res else url.path,
            q.get("resourceVersion", ""), q.get("continue", ""),
            "ok" if auth == "Bearer " + self.server.token else "bad")
        with st.cond:
            st.log.append(line)
        if auth != "Bearer " + self.server.token:
            return self.reply(401, status(401, "Unauthorized", "bad token"))
        if not res:
            return self.reply(404, status(404, "NotFound", url.path))
        if q.get("watch") in ("1", "true"):
            return self.watch(res, q)
        return self.list(res, q)

    def list(self, res, q):
        st = self.server.state
        kind, api, list_kind = res
        with st.cond:
            items = sorted((k, o) for k, o in st.objs.items() if k[0] == kind)
            rv = st.rv
        start = int(q.get("continue") or 0)
        limit = min(int(q.get("limit") or 500), st.page)
        page = [dict((k, v) for k, v in o.items() if k not in ("kind", "apiVersion"))
                for _, o in items[start:start + limit]]
        meta = {"resourceVersion": str(rv)}
        if start + limit < len(items):
            meta["continue"] = str(start + limit)
        self.reply(200, {"kind": list_kind, "apiVersion": api, "metadata": meta,
                         "items": page})

    def watch(self, res, q):
        st = self.server.state
        kind = res[0]
        rv = int(q.get("resourceVersion") or 0)
        deadline = time.time() + int(q.get("timeoutSeconds") or 60)
        bookmarks = q.get("allowWatchBookmarks") == "true"
        with st.cond:
            if st.gone_status:
                st.gone_status = False
                return self.reply(410, status(410, "Expired", "too old resource version"))
            gen = st.drop_gen
            too_old = rv < st.compacted
            pos = len([h for h in st.history if h[0] <= rv])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if too_old:
            ev = {"type": "ERROR", "object": status(
                410, "Expired", "too old resource version: %d (%d)" % (rv, st.compacted))}
            self.chunk(json.dumps(ev).encode() + b"\n")
            self.chunk(b"")
            return
        while True:
            with st.cond:
                while (pos >= len(st.history) and st.drop_gen == gen
                       and time.time() < deadline):
                    st.cond.wait(0.2)
                if st.drop_gen != gen:
                    # a cut connection: no final chunk
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                events = st.history[pos:]
                pos = len(st.history)
            for _, k, typ, obj in events:
                if k != kind or (typ == "BOOKMARK" and not bookmarks):
                    continue
                self.chunk(json.dumps({"type": typ, "object": obj}).encode() + b"\n")
            if time.time() >= deadline:
                self.chunk(b"")
                return


class Ctl(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, text):
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        st = self.server.state
        with st.cond:
            if self.path == "/ctl/log":
                return self.reply("".join(l + "\n" for l in st.log))
            return self.reply("%d\n" % st.rv)

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        if self.path == "/ctl/apply":
            return self.reply(st.change(body["kind"], "ADDED", body) + "\n")
        if self.path == "/ctl/delete":
            with st.cond:
                key = (body["kind"], body.get("namespace", "default"), body["name"])
                obj = st.objs.get(key)
            if obj:
                st.change(body["kind"], "DELETED", obj)
            return self.reply("DELETED\n" if obj else "absent\n")
        if self.path == "/ctl/bookmark":
            for kind in KIND_PATH:
                st.change(kind, "BOOKMARK", {})
            return self.reply("%d\n" % st.rv)
        with st.cond:
            if self.path in ("/ctl/expire", "/ctl/gone-status"):
                st.rv += 10
                st.compacted = st.rv
                st.gone_status = self.path == "/ctl/gone-status"
            st.drop_gen += 1
            st.cond.notify_all()
        return self.reply("ok\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=6443)
    ap.add_argument("--ctl-port", type=int, default=6444)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--page", type=int, default=500, help="list page size cap")
    ap.add_argument("objects", nargs="*", help="JSON files: objects or Lists")
    a = ap.parse_args()
    st = State(a.page)
    for path in a.objects:
        doc = json.load(open(path))
        for obj in doc.get("items", [doc]) if doc.get("kind") == "List" else [doc]:
            st.change(obj["kind"], "ADDED", obj)
    api = ThreadingHTTPServer(("127.0.0.1", a.port), Api)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    api.socket = ctx.wrap_socket(api.socket, server_side=True)
    ctl = ThreadingHTTPServer(("127.0.0.1", a.ctl_port), Ctl)
    for s in (api, ctl):
        s.state = st
        s.token = a.token
        s.daemon_threads = True
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    api.serve_forever()


if __name__ == "__main__":
    main()
