#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""check_layers.py BUILD_USER_DIR LAYER... - user/'s stages depend one way.

The layers are given lowest first (the Makefile's LAYERS). Three checks,
each a PASS or FAIL line:
  - every #include "STAGE/x.h" in user/STAGE2/ names a stage at or below
    STAGE2;
  - every symbol an object of user/ uses from another object of user/ is
    defined at or below its own stage (nm on the built objects, so a
    prototype written by hand instead of an include is caught too);
  - no object depends on itself through others: the graph of "uses a
    symbol of" has no circle, within a stage either.
"""
import glob
import os
import re
import subprocess
import sys


def nm(path, *flags):
    out = subprocess.run(["nm", *flags, path], capture_output=True,
                         text=True, check=True).stdout
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


def circles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    build, layers = sys.argv[1], sys.argv[2:]
    rank = {name: i for i, name in enumerate(layers)}
    failed = 0

    def report(name, problems):
        nonlocal failed
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(problems))
        else:
            print(f"PASS {name}")

    problems = []
    for path in sorted(glob.glob("user/*/*.[ch]")):
        stage = path.split("/")[1]
        if stage not in rank:
            problems.append(f"{path}: stage {stage} is not in LAYERS")
            continue
        for n, line in enumerate(open(path), 1):
            m = re.match(r'\s*#\s*include\s+"([^/"]+)/[^"]+"', line)
            if m and m.group(1) in rank and rank[m.group(1)] > rank[stage]:
                problems.append(f"{path}:{n} includes {m.group(1)}/ "
                                f"(above {stage}/)")
    report("layers_include_only_their_own_stage_or_below", problems)

    # Objects whose source still exists (a moved file leaves its old one).
    objs = sorted(o for o in glob.glob(os.path.join(build, "*", "*.o"))
                  if os.path.exists(os.path.join(
                      "user", os.path.relpath(o, build)[:-2] + ".c")))
    defined, used = {}, {}
    for o in objs:
        for sym in nm(o, "--defined-only", "--extern-only"):
            defined[sym] = o
        used[o] = nm(o, "--undefined-only")
    stage_of = {o: os.path.basename(os.path.dirname(o)) for o in objs}
    graph, problems = {}, []
    for o in objs:
        for sym in used[o]:
            d = defined.get(sym)
            if not d or d == o:
                continue
            graph.setdefault(o, set()).add(d)
            if rank[stage_of[d]] > rank[stage_of[o]]:
                problems.append(f"{os.path.relpath(o, build)} uses {sym} "
                                f"from {os.path.relpath(d, build)}")
    report("layers_call_only_their_own_stage_or_below", problems)
    report("no_user_object_depends_on_itself",
           [" <-> ".join(os.path.relpath(o, build) for o in c)
            for c in circles(graph)])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
