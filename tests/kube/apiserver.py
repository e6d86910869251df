#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""apiserver.py - a small Kubernetes API server for the tests: a generic
object store that the agent's list/watch client and a real kubectl use.

HTTPS with a bearer token. What it serves:
  discovery   /version, /api, /api/v1, /apis, /apis/GROUP/VERSION, and a
              minimal /openapi/v2 (an empty protobuf document: kubectl's
              client-side validation then skips every kind, as it does
              for CRDs without a schema)
  kinds       the KINDS table below, one line each
  verbs       create (POST), get, list (limit/continue pages, all read
              at the first page's version; labelSelector, fieldSelector), watch, update (PUT),
              patch (merge, strategic, JSON patch), delete,
              deletecollection, and the status subresource of the kinds
              marked so (GET/PUT/PATCH NAME/status); pods/NAME/log
              serves a file the test writes (--pod-logs); a Table when
              kubectl asks for one, with the Gateway API CRDs' columns

Semantics, as the real API server has them:
  - one resourceVersion counter for every write; uid and
    creationTimestamp set on create; metadata.generation is 1 on create
    and goes up only when something other than metadata and status
    changes;
  - for a kind with a status subresource, writes to the object keep the
    stored status (create drops it) and writes to NAME/status change only
    status;
  - an update or patch naming a resourceVersion other than the stored one
    is a 409 Conflict; create of an existing name is a 409 AlreadyExists;
    a missing object is a 404 NotFound; a missing or malformed name is a
    422 Invalid; all as Status objects, so kubectl prints
    "Error from server (NotFound): ...";
  - a namespaced URL sets the object's namespace; a different namespace
    in the body is a 400.
Not modelled: admission, defaulting, schemas, finalizers and graceful
deletion (a delete is immediate), deleting a Namespace's contents,
managedFields and server-side apply (415).
Strategic merge patch is a merge patch (RFC 7386) that also merges lists
of objects by their merge key (name, or port/containerPort/mountPath/...,
see MERGE_KEYS) and understands $patch, $setElementOrder,
$deleteFromPrimitiveList and $retainKeys, which is what kubectl apply
sends for the built-in kinds.

Watches: from a resourceVersion they replay what happened since, then
stream chunked JSON events (ADDED, MODIFIED, DELETED, BOOKMARK when
allowWatchBookmarks); without one (or "0") they start with an ADDED per
object. "Too old resource version" is an ERROR event with a 410 Status,
or an HTTP 410.

The test drives it through a plain-HTTP control port, writing through the
same store (so watchers see one history), with no status rules: the body
is the whole object.
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
import base64
import calendar
import copy
import json
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Kind:
    def __init__(self, group, version, kind, plural, namespaced, short, status):
        self.group, self.version, self.kind, self.plural = group, version, kind, plural
        self.namespaced, self.short, self.status = namespaced, short, status
        self.api_version = "%s/%s" % (group, version) if group else version
        self.prefix = "/apis/" + self.api_version if group else "/api/v1"
        # CRDs' list items carry kind and apiVersion; built-in kinds' do not
        self.crd = group.startswith("gateway.")
        self.resource = "%s.%s" % (plural, group) if group else plural


C, N = False, True   # cluster-scoped, namespaced
STATUS = True
# group, version, kind, plural, scope, shortNames, status subresource.
# shortNames as the kinds' own definitions declare them (kubectl users
# type them: `kubectl get gtw`).
KINDS = [Kind(*k) for k in [
    ("", "v1", "Namespace", "namespaces", C, ["ns"], STATUS),
    ("", "v1", "Service", "services", N, ["svc"], STATUS),
    ("", "v1", "ServiceAccount", "serviceaccounts", N, ["sa"], False),
    ("", "v1", "ConfigMap", "configmaps", N, ["cm"], False),
    ("", "v1", "Pod", "pods", N, ["po"], STATUS),
    ("", "v1", "Endpoints", "endpoints", N, ["ep"], False),
    ("apps", "v1", "Deployment", "deployments", N, ["deploy"], STATUS),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", N, [], False),
    ("coordination.k8s.io", "v1", "Lease", "leases", N, [], False),
    ("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", C, ["gc"], STATUS),
    ("gateway.networking.k8s.io", "v1", "Gateway", "gateways", N, ["gtw"], STATUS),
    ("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", N, [], STATUS),
    ("gateway.networking.k8s.io", "v1beta1", "ReferenceGrant", "referencegrants", N, ["refgrant"], False),
    ("gateway.envoyproxy.io", "v1alpha1", "BackendTrafficPolicy", "backendtrafficpolicies", N, ["btp"], STATUS),
]]
# Columns of `kubectl get` (a Table, when kubectl asks for one) beyond
# NAME and AGE: the Gateway API CRDs' additionalPrinterColumns, as
# (header, priority, value of the object); priority 1 is -o wide's.


def cond(typ):
    return lambda o: " ".join(c.get("status", "") for c in
                              (o.get("status") or {}).get("conditions") or []
                              if c.get("type") == typ)


COLUMNS = {
    "GatewayClass": [("Controller", 0, lambda o: o.get("spec", {}).get("controllerName", "")),
                     ("Accepted", 0, cond("Accepted")),
                     ("Description", 1, lambda o: o.get("spec", {}).get("description", ""))],
    "Gateway": [("Class", 0, lambda o: o.get("spec", {}).get("gatewayClassName", "")),
                ("Address", 0, lambda o: " ".join(
                    a.get("value", "") for a in (o.get("status") or {}).get("addresses") or [])),
                ("Programmed", 0, cond("Programmed"))],
    "HTTPRoute": [("Hostnames", 0, lambda o: json.dumps(o.get("spec", {}).get("hostnames"))
                   if o.get("spec", {}).get("hostnames") else "")],
}
BY_KIND = {k.kind: k for k in KINDS}
BY_PATH = {(k.prefix, k.plural): k for k in KINDS}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


class ApiError(Exception):
    REASONS = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound",
               405: "MethodNotAllowed", 409: "Conflict", 410: "Expired",
               415: "UnsupportedMediaType", 422: "Invalid"}

    def __init__(self, code, msg, reason=None, kind=None, name=None):
        super().__init__(msg)
        self.code, self.msg = code, msg
        self.reason = reason or self.REASONS.get(code, "InternalError")
        self.details = {}
        if kind:
            self.details = {"name": name or "", "group": kind.group, "kind": kind.plural}


def status(code, reason, msg, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
         "status": "Failure", "message": msg, "reason": reason, "code": code}
    if details:
        s["details"] = details
    return s


def not_found(kind, name):
    return ApiError(404, '%s "%s" not found' % (kind.resource, name), kind=kind, name=name)


def conflict(kind, name):
    return ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been '
                    'modified; please apply your changes to the latest version and try '
                    'again' % (kind.resource, name), kind=kind, name=name)


def key_of(obj):
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def invalid(kind, name, reason, field, msg):
    """422, with the causes kubectl prints as "The KIND "NAME" is invalid: ..."."""
    e = ApiError(422, '%s "%s" is invalid: %s: %s' % (kind.kind, name, field, msg),
                 kind=kind, name=name)
    e.details["kind"] = kind.kind
    e.details["causes"] = [{"reason": reason, "message": msg, "field": field}]
    return e


def age(ts):
    """A creationTimestamp as kubectl's AGE column shows it."""
    try:
        s = int(time.time() - calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return "<unknown>"
    s = max(s, 0)
    if s < 120:
        return "%ds" % s
    m, h, d = s // 60, s // 3600, s // 86400
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    return "%dd" % d


def table(kind, items, meta):
    """A meta.k8s.io/v1 Table: what kubectl prints without -o."""
    cols = COLUMNS.get(kind.kind, [])
    defs = [{"name": "Name", "type": "string", "format": "name", "priority": 0,
             "description": "Name must be unique within a namespace."}]
    defs += [{"name": c[0], "type": "string", "format": "", "priority": c[1],
              "description": ""} for c in cols]
    defs.append({"name": "Age", "type": "string", "format": "", "priority": 0,
                 "description": "CreationTimestamp"})
    rows = [{"cells": [o["metadata"]["name"]] + [c[2](o) for c in cols] +
             [age(o["metadata"].get("creationTimestamp"))],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": o["metadata"]}} for o in items]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": defs, "rows": rows}


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def spec_of(obj):
    """What generation counts: everything but metadata and status."""
    return {k: v for k, v in obj.items()
            if k not in ("metadata", "status", "kind", "apiVersion")}


# ---- selectors -------------------------------------------------------------

def split_terms(sel):
    """Split a selector on the commas outside parentheses."""
    terms, depth, cur = [], 0, ""
    for ch in sel:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    return [t.strip() for t in terms if t.strip()]


def label_matcher(sel):
    """labelSelector: a=b, a==b, a!=b, a in (x,y), a notin (x), a, !a."""
    tests = []
    for t in split_terms(sel or ""):
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\((.*)\)$", t)
        if m:
            k, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            tests.append(lambda l, k=k, op=op, vals=vals:
                         (l.get(k) in vals) if op == "in" else (l.get(k) not in vals))
            continue
        m = re.match(r"^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$", t)
        if m:
            k, op, v = m.groups()
            tests.append(lambda l, k=k, op=op, v=v: (l.get(k) == v) == (op != "!="))
            continue
        m = re.match(r"^(!?)([\w./-]+)$", t)
        if not m:
            raise ApiError(400, "unable to parse requirement: %r" % t)
        tests.append(lambda l, neg=m.group(1), k=m.group(2): (k in l) != bool(neg))
    return lambda obj: all(f(obj.get("metadata", {}).get("labels") or {}) for f in tests)


def field_matcher(sel):
    """fieldSelector: path=value, path==value, path!=value on any field."""
    tests = []
    for t in split_terms(sel or ""):
        m = re.match(r"^([\w.]+)\s*(==|=|!=)\s*(.*)$", t)
        if not m:
            raise ApiError(400, "invalid field selector: %r" % t)
        path, op, v = m.groups()
        tests.append((path.split("."), op != "!=", v))

    def get(obj, path):
        for p in path:
            obj = obj.get(p) if isinstance(obj, dict) else None
        return "" if obj is None else obj if isinstance(obj, str) else json.dumps(obj)
    return lambda obj: all((get(obj, p) == v) == eq for p, eq, v in tests)


# ---- patches ----------------------------------------------------------------

def merge_patch(target, patch):
    """RFC 7386: objects merge, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# Merge keys of the built-in kinds' lists of objects (their patchMergeKey),
# tried in order on the elements; a list without one is replaced.
MERGE_KEYS = ["name", "containerPort", "port", "mountPath", "devicePath", "ip", "type",
              "topologyKey"]


def merge_key(items):
    for key in MERGE_KEYS:
        if items and all(isinstance(i, dict) and key in i for i in items):
            return key
    return None


def strategic_patch(target, patch):
    """Strategic merge patch, by merge keys instead of the Go types' tags."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k.startswith("$setElementOrder/") or k in ("$retainKeys", "$patch"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            f = k.split("/", 1)[1]
            out[f] = [x for x in out.get(f) or [] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list):
            out[k] = strategic_list(out.get(k), v, patch.get("$setElementOrder/" + k))
        else:
            out[k] = strategic_patch(out.get(k), v)
    if retain is not None:
        out = {k: v for k, v in out.items() if k in retain}
    return out


def strategic_list(old, new, order):
    old = old if isinstance(old, list) else []
    key = merge_key([i for i in new if not (isinstance(i, dict) and i.get("$patch"))] or
                    [i for i in new if isinstance(i, dict)]) or merge_key(old)
    if not key or not all(isinstance(i, dict) for i in old + new):
        return copy.deepcopy(new)   # a list of scalars or without a key: replaced
    out = [copy.deepcopy(i) for i in old]
    for item in new:
        at = [n for n, o in enumerate(out) if o.get(key) == item.get(key)]
        if item.get("$patch") == "delete":
            out = [o for o in out if o.get(key) != item.get(key)]
        elif at:
            out[at[0]] = strategic_patch(out[at[0]], item)
        else:
            out.append(strategic_patch({}, item))
    if order:
        rank = {json.dumps(o.get(key)): n for n, o in enumerate(order)}
        out.sort(key=lambda o: rank.get(json.dumps(o.get(key)), len(rank)))
    return out


def json_patch(doc, ops):
    """RFC 6902: add, remove, replace, move, copy, test."""
    doc = copy.deepcopy(doc)

    def walk(path):
        if not path.startswith("/"):
            raise ApiError(422, "json patch: bad path %r" % path)
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        return parent, parts[-1]

    def get(path):
        if path == "":
            return doc
        parent, last = walk(path)
        return parent[int(last)] if isinstance(parent, list) else parent[last]

    def put(path, value, replace):
        parent, last = walk(path)
        if isinstance(parent, list):
            i = len(parent) if last == "-" else int(last)
            if replace:
                parent[i] = value
            else:
                parent.insert(i, value)
        else:
            if replace and last not in parent:
                raise KeyError(last)
            parent[last] = value

    def remove(path):
        parent, last = walk(path)
        return parent.pop(int(last) if isinstance(parent, list) else last)

    for op in ops if isinstance(ops, list) else []:
        try:
            o, path = op["op"], op["path"]
            if o == "add":
                put(path, copy.deepcopy(op["value"]), False)
            elif o == "remove":
                remove(path)
            elif o == "replace":
                put(path, copy.deepcopy(op["value"]), True)
            elif o == "move":
                put(path, remove(op["from"]), False)
            elif o == "copy":
                put(path, copy.deepcopy(get(op["from"])), False)
            elif o == "test":
                if get(path) != op["value"]:
                    raise ApiError(422, "json patch: test failed at %s" % path)
            else:
                raise ApiError(422, "json patch: unknown op %r" % o)
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise ApiError(422, "json patch: %s %s: %r" % (op.get("op"), op.get("path"), e))
    return doc


PATCHES = {"application/merge-patch+json": merge_patch,
           "application/strategic-merge-patch+json": strategic_patch,
           "application/json-patch+json": json_patch}


# ---- the store ---------------------------------------------------------------

class State:
    def __init__(self, page):
        self.cond = threading.Condition()
        self.rv = 1000
        self.objs = {}          # (kind, ns, name) -> obj; ns "" if cluster-scoped
        self.history = []       # (rv, kind, type, obj)
        self.compacted = 0
        self.drop_gen = 0
        self.gone_status = False
        self.page = page
        self.log = []
        self.snapshots = {}     # (rv, kind, ns, selectors) -> a paged list's objects

    SNAPSHOTS = 64

    def snapshot(self, rv, what, items):
        """Keep a paged list's objects for its continue tokens (the newest
        SNAPSHOTS lists; an older token is a 410, as after a compaction)."""
        self.snapshots[(rv,) + what] = items
        while len(self.snapshots) > self.SNAPSHOTS:
            del self.snapshots[next(iter(self.snapshots))]

    def commit(self, kind, typ, obj):
        """Store (or remove) obj under a new resourceVersion; a watch event.
        Called with the lock held."""
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        m = obj["metadata"]
        key = (kind.kind, m.get("namespace", ""), m["name"])
        if typ == "DELETED":
            self.objs.pop(key, None)
        else:
            self.objs[key] = obj
        self.history.append((self.rv, kind.kind, typ, copy.deepcopy(obj)))
        self.cond.notify_all()
        return copy.deepcopy(obj)

    def bookmark(self):
        """One resourceVersion, a BOOKMARK of it for every kind's watchers."""
        with self.cond:
            self.rv += 1
            for k in KINDS:
                self.history.append((self.rv, k.kind, "BOOKMARK", {
                    "kind": k.kind, "apiVersion": k.api_version,
                    "metadata": {"resourceVersion": str(self.rv)}}))
            self.cond.notify_all()
            return self.rv

    def write(self, kind, ns, name, body, mode, dry_run=False):
        """create | update | status (the subresource) | raw (the control
        port: the whole object, created or replaced). Returns (typ, obj)."""
        if not isinstance(body, dict):
            raise ApiError(400, "the body is not an object")
        body = copy.deepcopy(body)
        meta = body.get("metadata")
        if not isinstance(meta, dict):
            meta = body["metadata"] = {}
        if body.get("kind", kind.kind) != kind.kind or \
                body.get("apiVersion", kind.api_version) != kind.api_version:
            raise ApiError(400, "the object's kind %s %s is not %s %s" % (
                body.get("apiVersion"), body.get("kind"), kind.api_version, kind.kind))
        body["kind"], body["apiVersion"] = kind.kind, kind.api_version
        if kind.namespaced:
            if ns and meta.get("namespace", ns) != ns:
                raise ApiError(400, "the namespace of the provided object does not match "
                               "the namespace sent on the request")
            meta["namespace"] = ns or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if mode == "create" and not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if name and meta.get("name", name) != name:
            raise ApiError(400, "the name of the object (%s) does not match the name on "
                           "the URL (%s)" % (meta.get("name"), name))
        name = meta.setdefault("name", name or "")
        if not name:
            raise invalid(kind, "", "FieldValueRequired", "metadata.name",
                          "Required value: name or generateName is required")
        if not NAME_RE.match(name):
            raise invalid(kind, name, "FieldValueInvalid", "metadata.name",
                          'Invalid value: "%s": a lowercase RFC 1123 subdomain must consist '
                          "of lower case alphanumeric characters, '-' or '.'" % name)
        with self.cond:
            key = (kind.kind, meta.get("namespace", ""), name)
            old = self.objs.get(key)
            if mode == "create" and old:
                raise ApiError(409, '%s "%s" already exists' % (kind.resource, name),
                               "AlreadyExists", kind, name)
            if mode in ("update", "status"):
                if not old:
                    raise not_found(kind, name)
                rv = meta.get("resourceVersion")
                if rv and rv != old["metadata"]["resourceVersion"]:
                    raise conflict(kind, name)
            if old:
                # what the server owns stays; the body cannot change it
                for k in ("uid", "creationTimestamp"):
                    meta[k] = old["metadata"][k]
                if mode == "status":
                    new = copy.deepcopy(old)
                    new["status"] = body.get("status")
                    if new["status"] is None:
                        new.pop("status")
                    body = new
                elif mode == "update" and kind.status:
                    body.pop("status", None)
                    if "status" in old:
                        body["status"] = copy.deepcopy(old["status"])
                gen = old["metadata"].get("generation", 1)
                body["metadata"]["generation"] = gen + (spec_of(body) != spec_of(old))
            else:
                if mode == "create" and kind.status:
                    body.pop("status", None)
                meta["uid"] = meta.get("uid") if mode == "raw" and meta.get("uid") \
                    else str(uuid.uuid4())
                meta["creationTimestamp"] = meta.get("creationTimestamp") or now()
                meta["generation"] = 1
            typ = "MODIFIED" if old else "ADDED"
            if dry_run:
                return typ, body
            return typ, self.commit(kind, typ, body)

    def get(self, kind, ns, name):
        with self.cond:
            obj = self.objs.get((kind.kind, ns if kind.namespaced else "", name))
            if not obj:
                raise not_found(kind, name)
            return copy.deepcopy(obj)

    def delete(self, kind, ns, name, pre=None, dry_run=False):
        with self.cond:
            obj = self.get(kind, ns, name)
            pre = pre or {}
            for f in ("uid", "resourceVersion"):
                if pre.get(f) and pre[f] != obj["metadata"].get(f):
                    raise ApiError(409, "Precondition failed: %s in precondition: %s, %s in "
                                   "object meta: %s" % (f, pre[f], f, obj["metadata"].get(f)),
                                   kind=kind, name=name)
            if dry_run:
                return obj
            return self.commit(kind, "DELETED", obj)

    def select(self, kind, ns, q):
        """The objects of kind (in ns, if given) that q's selectors match."""
        labels = label_matcher(q.get("labelSelector"))
        fields = field_matcher(q.get("fieldSelector"))
        return [o for k, o in sorted(self.objs.items())
                if k[0] == kind.kind and (not ns or k[1] == ns) and labels(o) and fields(o)]


# ---- discovery ----------------------------------------------------------------

def discovery(path):
    if path == "/version":
        return {"major": "1", "minor": "20", "gitVersion": "v1.20.2-maglb-test",
                "gitCommit": "", "gitTreeState": "clean", "buildDate": "",
                "goVersion": "", "compiler": "gc", "platform": "linux/amd64"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}
    if path == "/apis":
        groups = {}
        for k in KINDS:
            if k.group:
                vs = groups.setdefault(k.group, [])
                if k.version not in vs:
                    vs.append(k.version)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": g, "versions": [{"groupVersion": "%s/%s" % (g, v), "version": v}
                                     for v in vs],
             "preferredVersion": {"groupVersion": "%s/%s" % (g, vs[0]), "version": vs[0]}}
            for g, vs in groups.items()]}
    m = re.match(r"^/apis/([^/]+)$", path)
    if m:
        for g in discovery("/apis")["groups"]:
            if g["name"] == m.group(1):
                return dict(g, kind="APIGroup", apiVersion="v1")
        return None
    prefix = path
    kinds = [k for k in KINDS if k.prefix == prefix]
    if not kinds:
        return None
    res = []
    for k in kinds:
        r = {"name": k.plural, "singularName": k.kind.lower(), "namespaced": k.namespaced,
             "kind": k.kind, "verbs": VERBS}
        if k.short:
            r["shortNames"] = k.short
        res.append(r)
        if k.status:
            res.append({"name": k.plural + "/status", "singularName": "",
                        "namespaced": k.namespaced, "kind": k.kind,
                        "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": kinds[0].api_version, "resources": res}


def pb_string(field, s):
    data = s.encode()
    return bytes([field << 3 | 2, len(data)]) + data


# An openapi_v2.Document (gnostic's protobuf) with swagger "2.0" and an
# info {title, version}, no paths and no definitions: kubectl 1.20 demands
# /openapi/v2 for `apply`'s validation (as protobuf only), and with no
# schema for a kind it skips validating it.
INFO = pb_string(1, "maglb test API server") + pb_string(2, "v1")
OPENAPI_V2 = pb_string(1, "2.0") + bytes([2 << 3 | 2, len(INFO)]) + INFO


def parse_path(path):
    """-> (kind, namespace, name, subresource) or None."""
    m = re.match(r"^(/api/v1|/apis/[^/]+/[^/]+)/(.*)$", path)
    if not m:
        return None
    prefix, parts = m.group(1), [p for p in m.group(2).split("/") if p]
    ns = ""
    if len(parts) >= 3 and parts[0] == "namespaces" and \
            (prefix, parts[2]) in BY_PATH and BY_PATH[(prefix, parts[2])].namespaced:
        ns, parts = parts[1], parts[2:]
    if not parts or (prefix, parts[0]) not in BY_PATH or len(parts) > 3:
        return None
    kind = BY_PATH[(prefix, parts[0])]
    return kind, ns, parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""


# ---- the API ---------------------------------------------------------------------

class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                data += self.rfile.read(n)
                self.rfile.readline()
                if n == 0:
                    break
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not data:
            return None
        ctype = self.headers.get("Content-Type", "application/json").split(";")[0].strip()
        if not ctype.endswith("json"):
            # protobuf (kubectl's typed clients since 1.2x) is not spoken
            raise ApiError(415, "the body of the request was in an unknown format - "
                           "accepted media types include: application/json")
        try:
            return json.loads(data)
        except ValueError as e:
            raise ApiError(400, "the body is not JSON: %s" % e)

    def do_GET(self):
        self.handle_api("GET")

    def do_POST(self):
        self.handle_api("POST")

    def do_PUT(self):
        self.handle_api("PUT")

    def do_PATCH(self):
        self.handle_api("PATCH")

    def do_DELETE(self):
        self.handle_api("DELETE")

    def handle_api(self, method):
        st = self.server.state
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        auth = "ok" if self.headers.get("Authorization", "") == \
            "Bearer " + self.server.token else "bad"
        target = parse_path(url.path)
        kind, ns, name, sub = target or (None, "", "", "")
        watch = q.get("watch") in ("1", "true")
        if method == "GET" and not name and kind:
            # the agent's tests read these lines
            line = "%s %s rv=%s continue=%s auth=%s" % (
                "WATCH" if watch else "LIST", kind.kind, q.get("resourceVersion", ""),
                q.get("continue", ""), auth)
        else:
            verb = {"GET": "GET", "POST": "CREATE", "PUT": "UPDATE", "PATCH": "PATCH",
                    "DELETE": "DELETE"}[method]
            line = "%s %s auth=%s" % (verb, "%s %s/%s%s" % (
                kind.kind, ns, name, "/" + sub if sub else "") if kind else url.path, auth)
        with st.cond:
            st.log.append(line)
        try:
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                body = self.body()
            if url.path in ("/healthz", "/livez", "/readyz"):
                return self.reply(200, b"ok", "text/plain")
            if auth != "ok":
                raise ApiError(401, "Unauthorized")
            if method == "GET" and not kind:
                if url.path == "/openapi/v2":
                    return self.reply(200, OPENAPI_V2, "application/octet-stream")
                doc = discovery(url.path.rstrip("/") or "/")
                if doc is None:
                    raise ApiError(404, "the server could not find the requested resource")
                return self.reply(200, doc)
            if kind is BY_KIND["Pod"] and sub == "log" and method == "GET":
                return self.pod_log(ns, name, q)
            if not kind or (sub and (sub != "status" or not kind.status)):
                raise ApiError(404, "the server could not find the requested resource")
            if kind.namespaced is False and ns:
                raise ApiError(404, "the server could not find the requested resource")
            dry = q.get("dryRun") == "All"
            if method == "GET":
                if name:
                    obj = st.get(kind, ns, name)
                    if self.wants_table() and not sub:
                        return self.reply(200, table(kind, [obj], {
                            "resourceVersion": obj["metadata"]["resourceVersion"]}))
                    return self.reply(200, obj)
                if watch:
                    return self.watch(kind, ns, q)
                return self.list(kind, ns, q)
            if method == "POST" and not name:
                if kind.namespaced and not ns:
                    ns = (body or {}).get("metadata", {}).get("namespace") or "default"
                _, obj = st.write(kind, ns, "", body, "create", dry)
                return self.reply(201, obj)
            if method == "PUT" and name:
                _, obj = st.write(kind, ns, name, body, "status" if sub else "update", dry)
                return self.reply(200, obj)
            if method == "PATCH" and name:
                return self.patch(kind, ns, name, sub, body, dry)
            if method == "DELETE" and name:
                pre = (body or {}).get("preconditions")
                return self.reply(200, st.delete(kind, ns, name, pre, dry))
            if method == "DELETE":
                with st.cond:
                    items = [st.delete(kind, o["metadata"].get("namespace", ""),
                                       o["metadata"]["name"], dry_run=dry)
                             for o in st.select(kind, ns, q)]
                return self.reply(200, {"kind": kind.kind + "List", "apiVersion":
                                        kind.api_version, "metadata": {}, "items": items})
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource")
        except ApiError as e:
            self.reply(e.code, status(e.code, e.reason, e.msg, e.details))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def wants_table(self):
        """kubectl get asks for a meta.k8s.io/v1 Table first (watches get
        objects: kubectl get -w falls back to printing them itself)."""
        return any("as=Table" in a and "v=v1" in a.split(";") and "g=meta.k8s.io" in a
                   for a in self.headers.get("Accept", "").replace(" ", "").split(","))

    def pod_log(self, ns, name, q):
        """pods/NAME/log: the file --pod-logs DIR/NAMESPACE/NAME (empty
        if there is none), for the seed's `kubectl logs $pod | wc -l`."""
        pod = self.server.state.get(BY_KIND["Pod"], ns, name)
        containers = [c.get("name") for c in pod.get("spec", {}).get("containers", [])]
        if q.get("container") and q["container"] not in containers:
            raise ApiError(400, 'container %s is not valid for pod %s' % (q["container"], name))
        data = b""
        if self.server.pod_logs:
            try:
                with open(os.path.join(self.server.pod_logs, ns, name), "rb") as f:
                    data = f.read()
            except OSError:
                pass
        self.reply(200, data, "text/plain")

    def patch(self, kind, ns, name, sub, body, dry):
        st = self.server.state
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype not in PATCHES:
            raise ApiError(415, "the body of the request was in an unknown format - "
                           "accepted media types include: " + ", ".join(PATCHES))
        with st.cond:
            old = st.get(kind, ns, name)
            new = PATCHES[ctype](old, body)
            if not isinstance(new, dict):
                raise ApiError(422, "the patch did not leave an object")
            # A resourceVersion in the patch is a precondition; none is
            # "whatever is stored" (unlike an update, where the body is
            # the whole object).
            new.setdefault("metadata", {})
            if new["metadata"].get("resourceVersion") is None:
                new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            _, obj = st.write(kind, ns, name, new, "status" if sub else "update", dry)
        self.reply(200, obj)

    def list(self, kind, ns, q):
        st = self.server.state
        # continue is RV.base64(namespace, name of the last object sent).
        # As in Kubernetes, every page of one list is read at the first
        # page's resourceVersion: a write between pages shows up in the
        # watch from that version, never half in the list (a client that
        # took page 1 before a change and page 2 after it would otherwise
        # miss the change). Past a compaction the token is a 410.
        token = q.get("continue") or ""
        with st.cond:
            if token:
                try:
                    snap_rv, enc = token.split(".", 1)
                    snap_rv = int(snap_rv)
                    after = tuple(json.loads(base64.urlsafe_b64decode(enc)))
                except (ValueError, TypeError):
                    raise ApiError(400, "invalid continue token %r" % token)
                snap = st.snapshots.get((snap_rv, kind.kind, ns, q.get("labelSelector"),
                                         q.get("fieldSelector")))
                if snap is None or snap_rv < st.compacted:
                    raise ApiError(410, "The provided continue parameter is too old to "
                                   "display a consistent list result. You can start a "
                                   "new list without the continue parameter.")
                items = [o for o in snap if key_of(o) > after]
                rv = snap_rv
            else:
                items = copy.deepcopy(st.select(kind, ns, q))
                rv = st.rv
        limit = min(int(q.get("limit") or 500) or 500, st.page)
        page = [o if kind.crd else {k: v for k, v in o.items()
                                    if k not in ("kind", "apiVersion")}
                for o in items[:limit]]
        meta = {"resourceVersion": str(rv)}
        if limit < len(items):
            meta["continue"] = "%d.%s" % (rv, base64.urlsafe_b64encode(
                json.dumps(key_of(page[-1])).encode()).decode())
            if not token:
                with st.cond:
                    st.snapshot(rv, (kind.kind, ns, q.get("labelSelector"),
                                     q.get("fieldSelector")), items)
            meta["remainingItemCount"] = len(items) - limit
        if self.wants_table():
            return self.reply(200, table(kind, items[:limit], meta))
        self.reply(200, {"kind": kind.kind + "List", "apiVersion": kind.api_version,
                         "metadata": meta, "items": page})

    def watch(self, kind, ns, q):
        st = self.server.state
        rv_arg = q.get("resourceVersion") or "0"
        rv = int(rv_arg)
        deadline = time.time() + int(q.get("timeoutSeconds") or 60)
        bookmarks = q.get("allowWatchBookmarks") == "true"
        labels = label_matcher(q.get("labelSelector"))
        fields = field_matcher(q.get("fieldSelector"))
        initial = []
        with st.cond:
            if st.gone_status:
                st.gone_status = False
                raise ApiError(410, "too old resource version")
            gen = st.drop_gen
            too_old = rv != 0 and rv < st.compacted
            if rv == 0:
                # no version: the current state as ADDED, then what follows
                initial = [("ADDED", o) for o in st.select(kind, ns, q)]
                rv = st.rv
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
        for typ, obj in initial:
            self.chunk(json.dumps({"type": typ, "object": obj}).encode() + b"\n")
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
                if k != kind.kind:
                    continue
                if typ == "BOOKMARK":
                    if not bookmarks:
                        continue
                elif (ns and obj["metadata"].get("namespace") != ns) or \
                        not labels(obj) or not fields(obj):
                    continue
                self.chunk(json.dumps({"type": typ, "object": obj}).encode() + b"\n")
            if time.time() >= deadline:
                self.chunk(b"")
                return


class Ctl(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, text, code=200):
        data = text.encode()
        self.send_response(code)
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
        try:
            if self.path == "/ctl/apply":
                typ, _ = st.write(BY_KIND[body["kind"]], "", "", body, "raw")
                return self.reply(typ + "\n")
            if self.path == "/ctl/delete":
                kind = BY_KIND[body["kind"]]
                ns = body.get("namespace", "default") if kind.namespaced else ""
                try:
                    st.delete(kind, ns, body["name"])
                except ApiError:
                    return self.reply("absent\n")
                return self.reply("DELETED\n")
        except (ApiError, KeyError) as e:
            return self.reply("error: %s\n" % e, 400)
        if self.path == "/ctl/bookmark":
            return self.reply("%d\n" % st.bookmark())
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
    ap.add_argument("--port", type=int, default=6443, help="HTTPS API port (0: any free)")
    ap.add_argument("--ctl-port", type=int, default=6444, help="control port (0: any free)")
    ap.add_argument("--ports-file", help="write 'API-PORT CTL-PORT' here once listening")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--page", type=int, default=500, help="list page size cap")
    ap.add_argument("--pod-logs", help="pods/NAME/log serves DIR/NAMESPACE/NAME")
    ap.add_argument("objects", nargs="*", help="JSON files: objects or Lists")
    a = ap.parse_args()
    st = State(a.page)
    for ns in ("default", "kube-system"):
        st.write(BY_KIND["Namespace"], "", ns, {"metadata": {"name": ns}}, "raw")
    for path in a.objects:
        doc = json.load(open(path))
        for obj in doc.get("items", [doc]) if doc.get("kind") == "List" else [doc]:
            st.write(BY_KIND[obj["kind"]], "", "", obj, "raw")
    api = ThreadingHTTPServer(("127.0.0.1", a.port), Api)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    api.socket = ctx.wrap_socket(api.socket, server_side=True)
    ctl = ThreadingHTTPServer(("127.0.0.1", a.ctl_port), Ctl)
    for s in (api, ctl):
        s.state = st
        s.token = a.token
        s.pod_logs = a.pod_logs
        s.daemon_threads = True
    if a.ports_file:
        with open(a.ports_file + ".tmp", "w") as f:
            f.write("%d %d\n" % (api.server_address[1], ctl.server_address[1]))
        os.rename(a.ports_file + ".tmp", a.ports_file)
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    api.serve_forever()


if __name__ == "__main__":
    main()
