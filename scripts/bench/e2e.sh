#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# e2e.sh - wrk from a client namespace through each option to 10 nginx pods,
# alternating the options round by round (A B C ... A B C ...), in
# keep-alive and in Connection: close mode. Prints medians and ratios, and
# writes build/bench/e2e.tsv for the chart.
#   ROUNDS (5)  DURATION seconds per run (5)  CONNS (32)  OPTIONS (all,
#   a subset to compare a few)  TOPO (mlb-bench: the namespaces' prefix)
#   MODE (nat; snat: the one-arm topology, for direct, maglb-* and the
#   egress-path rows only)  HEAD_OPTIONS (direct maglb-Cookie nginx-cookie:
#   the connection setup rows with a 1.4 KiB request head). On a shared VM,
#   fewer rounds left run-to-run ratios apart by up to 15%.
set -u
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
TOPO=${TOPO:-mlb-bench}
MODE=${MODE:-nat}
source scripts/lib/topo.sh
OUT=build/bench
mkdir -p "$OUT"
trap 'nginx_lb_stop; topo_down >/dev/null 2>&1' EXIT
topo_down >/dev/null 2>&1
topo_up "$MODE" >/dev/null 2>&1 || { echo "bench: topology failed" >&2; exit 1; }
CFG=$WORK/maglb.yaml
# "direct": the client reaches a pod through the node's kernel routing
# (one-arm: on the bridge).
[ "$MODE" = nat ] && nsx client ip route add 10.20.1.0/24 via 10.10.0.1
BACKENDS=$(for i in $(seq 0 9); do printf '%s:3000 ' "$(backend_addr "$MODE" "$i")"; done)
# The node's devices maglb is attached to, and the far ends of their veths
# (netns:device), which the egress-path rows give an XDP program or not.
if [ "$MODE" = nat ]; then
	LB_DEVS="eth0 eth1"
	PEERS="client:eth0 lan:node"
else
	LB_DEVS="eth0"
	PEERS="lan:node"
fi

# A table given to wrk.format() replaces wrk.headers, -H ones included:
# copy them, or "Connection: close" is silently lost (an earlier version
# of this script measured keep-alive in the cookie rows' close mode).
cat > "$WORK/cookie.lua" <<'LUA'
-- a random cookie out of 1000 per request, with the -H headers kept
request = function()
	local h = {}
	for k, v in pairs(wrk.headers) do h[k] = v end
	h["Cookie"] = "FooBar=u" .. math.random(1000)
	return wrk.format(nil, nil, h)
end
LUA

lb_off() {
	maglb detach $LB_DEVS >/dev/null 2>&1
	peers_xdp off
	nsx node nft delete table ip lbbench 2>/dev/null
	nginx_lb_stop
}

maglb_on() {	# hash type [backend index ...]
	[ -e "$PIN_DIR/links/eth0" ] || maglb attach $LB_DEVS >/dev/null 2>&1 || return 1
	write_config "$CFG" "$MODE" "$@"
	maglb apply -f "$CFG" >/dev/null
}

# ---- egress paths (bpf/lib/egress.h) ----
# Until the agent's probe fills maglb_egress, each path row writes the
# entries itself; attach has put both devices in the devmap already.
le32() { printf '%d %d %d %d' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
ifindex() { nsx node cat "/sys/class/net/$1/ifindex"; }

egress_put() {	# dev MAGLB_EG_F_* flags: struct maglb_egress, peer_nsid -1
	bpftool map update pinned "$PIN_DIR/maglb_egress" \
		key $(le32 "$(ifindex "$1")") \
		value $(le32 "$2") 0 0 0 0  0 0 0 0  255 255 255 255 \
		0 0 0 0  0 0 0 0  0 0 0 0 0 0 0 0
}
EG_REDIRECT=1 EG_TX=2 EG_PEER=4

# The driver keeps no metadata, as far as the datapath knows: the stack path.
handoff_no_meta() { bpftool map update pinned "$PIN_DIR/maglb_handoff" key 0 0 0 0 value 1 0 0 0 0 0 0 0; }

# A veth takes XDP frames only while its far end runs NAPI: the redirect
# and XDP_TX rows give the far ends an XDP program, every other row none.
peers_xdp() {	# on|off
	local p
	for p in $PEERS; do
		if [ "$1" = on ]; then
			ip -n "$(ns "${p%%:*}")" link set dev "${p#*:}" xdpdrv obj "$XDP_PASS_OBJ" sec xdp
		else
			ip -n "$(ns "${p%%:*}")" link set dev "${p#*:}" xdpdrv off
		fi
	done
}

path_on() {	# path row
	local d
	# Tuple in one-arm: snat ports come from the flow's hash, 16 tries
	# (bpf/lib/conntrack.h), and SourceIP gives one client one hash.
	if [ "$MODE" = nat ]; then maglb_on SourceIP || return 1
	else maglb_on Tuple || return 1; fi
	case $1 in
	maglb-redirect|maglb-tx)
		peers_xdp on || return 1
		for d in $LB_DEVS; do egress_put "$d" $((EG_REDIRECT | EG_TX)) || return 1; done ;;
	maglb-tc)	# into the client's veth by bpf_redirect_peer; toward
			# the bridge by bpf_redirect_neigh: a bridge port
			# forwards by MAC, and the MACs are still the node's
		if [ "$MODE" = nat ]; then egress_put eth0 $EG_PEER || return 1; fi ;;
	maglb-tc-neigh) ;;	# no entries: bpf_redirect_neigh everywhere
	maglb-stack) handoff_no_meta ;;
	esac
}

# The path a row's packets must leave by: enum maglb_path's name.
path_of() {
	case $1 in
	maglb-redirect) echo redirect ;; maglb-tx) echo tx ;;
	maglb-tc|maglb-tc-neigh) echo tc ;; maglb-stack) echo stack ;;
	esac
}

# Packets per device and path (maglb_egress_stats, summed over CPUs).
egress_dump() {
	bpftool -j map dump pinned "$PIN_DIR/maglb_egress_stats" 2>/dev/null |
		python3 -c '
import sys, json
names = {int(i): n for i, n in (a.split("=") for a in sys.argv[1:])}
paths = ["redirect", "tx", "tc", "stack"]
def u(b): return int.from_bytes(bytes(int(x, 16) for x in b), "little")
for e in json.load(sys.stdin):
    f = e.get("formatted")
    if f:
        k, vals = f["key"], [v["value"]["packets"] for v in f["values"]]
        ifi, path = k["ifindex"], k["path"]
    else:
        ifi, path = u(e["key"][:4]), u(e["key"][4:8])
        vals = [u(v["value"][:8]) for v in e["values"]]
    print(names.get(ifi, ifi), paths[path] if path < 4 else path, sum(vals))
' $(for d in $LB_DEVS; do echo "$(ifindex "$d")=$d"; done)
}

# After a path row: every packet sent left by the row's path, or it fails.
path_check() {	# row before-dump after-dump
	python3 - "$1" "$(path_of "$1")" "$2" "$3" <<'PY'
import sys
row, want, before, after = sys.argv[1:]
def parse(t):
    d = {}
    for l in t.splitlines():
        dev, path, n = l.split()
        d[(dev, path)] = int(n)
    return d
b, a = parse(before), parse(after)
delta = {k: a[k] - b.get(k, 0) for k in a if a[k] - b.get(k, 0)}
ok = sum(n for (d, p), n in delta.items() if p == want)
wrong = {k: n for k, n in delta.items() if k[1] != want}
print("%s\t%s\t%d\t%s" % (row, want, ok,
      " ".join("%s:%s=%d" % (d, p, n) for (d, p), n in sorted(delta.items()))))
if wrong or not ok:
    print("bench: FAIL %s: packets left by %s, not only %s" % (row, wrong or "no path", want),
          file=sys.stderr)
    sys.exit(1)
PY
}

nft_on() {
	local map="" i=0
	for b in $BACKENDS; do map+="$i : ${b%:*} . 3000, "; i=$((i + 1)); done
	nsx node nft -f - <<NFT
table ip lbbench {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip daddr $VIP tcp dport 80 dnat ip to jhash ip saddr . tcp sport mod 10 map { ${map%, } }
	}
}
NFT
}

nginx_lb_on() {
	local d=$WORK/lbnginx
	mkdir -p "$d"
	{
		echo "worker_processes auto; user root; pid $d/nginx.pid; error_log $d/error.log;"
		echo "events { worker_connections 4096; }"
		echo "http { access_log off;"
		echo "  upstream pods { hash \$cookie_FooBar consistent; keepalive 64;"
		for b in $BACKENDS; do echo "    server $b;"; done
		echo "  }"
		echo "  server { listen $VIP:80; location / { proxy_pass http://pods;"
		echo "    proxy_http_version 1.1; proxy_set_header Connection \"\"; } } }"
	} > "$d/nginx.conf"
	nsx node ip addr add "$VIP/32" dev lo 2>/dev/null
	nsx node nginx -c "$d/nginx.conf" -p "$d" -q
	wait_port node 80 2>/dev/null || { nsx node bash -c "exec 3<>/dev/tcp/$VIP/80" 2>/dev/null; }
}

nginx_lb_stop() {
	local p
	p=$(cat "$WORK/lbnginx/nginx.pid" 2>/dev/null) && kill "$p" 2>/dev/null && sleep 0.3
	nsx node ip addr del "$VIP/32" dev lo 2>/dev/null
	return 0
}

# option name -> setup, URL, wrk script. "direct-cookie" is direct with
# the cookie options' wrk script: on 2 shared cores the client's Lua per
# request costs server throughput too, so the cookie rows are compared
# with it, like with like.
# The *-1pod rows send everything to pod 0, the pod direct reaches: they
# separate the balancer's own cost from what spreading over 10 pods costs
# when the pods share the client's 2 cores.
# direct-xdp is direct with maglb attached: every packet passes through
# XDP untouched (not a VIP), which on veth costs a copy of each locally sent
# TCP segment (a clone) into a page with XDP headroom; a real NIC has none.
# The egress-path rows (SourceIP, nat; Tuple, one-arm) each force one path
# (bpf/lib/egress.h) and are checked to have used it: maglb-redirect (XDP
# devmap redirect, the far ends run XDP), maglb-tc (XDP_PASS, TC redirects:
# bpf_redirect_peer into the client's veth, bpf_redirect_neigh toward the
# bridge), maglb-tc-neigh (bpf_redirect_neigh both ways), maglb-stack (no
# metadata: the kernel routes); one-arm: maglb-tx (XDP_TX), maglb-tc.
OPTIONS=${OPTIONS:-"direct direct-cookie direct-xdp maglb-Tuple maglb-SourceIP maglb-Cookie maglb-Tuple-1pod maglb-Cookie-1pod nftables-DNAT nginx-cookie"}
opt_on() {
	local h=${1#maglb-}
	lb_off
	case $1 in
	direct|direct-cookie) ;;
	maglb-redirect|maglb-tx|maglb-tc|maglb-tc-neigh|maglb-stack) path_on "$1" ;;
	direct-xdp) maglb_on Tuple ;;
	maglb-*-1pod) maglb_on "${h%-1pod}" 0 ;;
	# a control, not in the default OPTIONS: Tuple with the cookie
	# script, to compare with maglb-Cookie client for client
	maglb-Tuple-cookie-script) maglb_on Tuple ;;
	maglb-*) maglb_on "${1#maglb-}" ;;
	nftables-DNAT) nft_on ;;
	nginx-cookie) nginx_lb_on ;;
	esac
}
opt_url() { case $1 in direct*) echo "http://$(backend_addr "$MODE" 0):3000/" ;; *) echo "http://$VIP/" ;; esac; }
opt_lua() { case $1 in *[Cc]ookie*) echo "-s $WORK/cookie.lua" ;; esac; }

cpu_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

: > "$OUT/e2e.raw"
: > "$OUT/egress.raw"
failed=0
# Around a path row's run: its packets per device and path.
path_begin() { [ -n "$(path_of "$1")" ] && egress_dump; }
path_end() {	# row before
	[ -n "$(path_of "$1")" ] || return 0
	path_check "$1" "$2" "$(egress_dump)" >> "$OUT/egress.raw" || failed=1
}
for ((r = 1; r <= ROUNDS; r++)); do
	for mode in keepalive close; do
		for o in $OPTIONS; do
			opt_on "$o" || { echo "bench: $o setup failed" >&2; continue; }
			hdr=()
			[ $mode = close ] && hdr=(-H "Connection: close")
			eg=$(path_begin "$o")
			c0=$(cpu_ticks)
			out=$(nsx client wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency \
				$(opt_lua "$o") "${hdr[@]}" "$(opt_url "$o")" 2>&1)
			c1=$(cpu_ticks)
			path_end "$o" "$eg"
			rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
			p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
			p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
			err=$(grep -cE "Socket errors|Non-2xx" <<<"$out")
			# busy CPU seconds on the whole machine per 10k requests
			cpu=$(awk -v d=$((c1 - c0)) -v r="${rps:-0}" -v t="$DURATION" \
				'BEGIN { if (r > 0) printf "%.3f", d / 100 / (r * t / 10000); else print "-" }')
			echo -e "$o\t$mode\t${rps:-0}\t${p50:--}\t${p99:--}\t$cpu\t$err" >> "$OUT/e2e.raw"
		done
	done
done

# opt_host_port OPTION: its URL's host and port, in $host and $port.
opt_host_port() {
	local url hostport
	url=$(opt_url "$1")
	hostport=${url#http://}
	hostport=${hostport%/}
	host=${hostport%:*}
	port=80
	[ "$host" != "$hostport" ] && port=${hostport##*:}
}

# Connection setup: connections/s one client core opens through each
# option (scripts/bench/connrate.c, pinned to CPU 1), alternating too.
: > "$OUT/connrate.raw"
for ((r = 1; r <= ROUNDS; r++)); do
	for o in $OPTIONS; do
		[ "$o" = direct-cookie ] && continue	# the same as direct here
		opt_on "$o" || continue
		opt_host_port "$o"
		eg=$(path_begin "$o")
		res=$(nsx client taskset -c 1 build/bench/connrate "$host" "$port" "$DURATION" 64)
		path_end "$o" "$eg"
		echo -e "$o\t$res" >> "$OUT/connrate.raw"
	done
done

# Connection setup with a request: each connection sends a 1.4 KiB head in
# one write (a browser's: the Cookie last, FooBar after five others, 1000
# values in turn) and counts at the answer's first bytes. The maglb rows
# also count the heads decided without their cookie (key_fallback and
# cookie_generated): heads of more than one segment, where they are not
# collected.
python3 - "$WORK/head1400.txt" <<'PY'
import sys
lines = ["GET / HTTP/1.1", "Host: www.example.com",
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language: en-US,en;q=0.9", "Accept-Encoding: gzip, deflate"]
ck = "Cookie: _ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; session=0123456789abcdef0123456789abcdef; theme=dark; lang=en-US; FooBar=u@@@@"
size, n = 1400, 1
left = size - sum(len(l) + 2 for l in lines) - len(ck) - 2 - 2
while left > 0:
    l = 100 if left > 200 else left
    name = "X-Pad-%d: " % n
    lines.append(name + "p" * (l - len(name) - 2))
    left -= l
    n += 1
head = "\r\n".join(lines + [ck]) + "\r\n\r\n"
assert len(head) == size, len(head)
open(sys.argv[1], "w").write(head)
PY
without_key() {
	maglb stats --json 2>/dev/null | grep -o '"\(key_fallback\|cookie_generated\)":{"packets":[0-9]*' |
		grep -o '[0-9]*$' | paste -sd+ | bc
}
HEAD_OPTIONS=${HEAD_OPTIONS:-"direct maglb-Cookie nginx-cookie"}
: > "$OUT/connrate_head.raw"
for ((r = 1; r <= ROUNDS; r++)); do
	for o in $HEAD_OPTIONS; do
		opt_on "$o" || continue
		opt_host_port "$o"
		k0=$(without_key)
		res=$(nsx client taskset -c 1 build/bench/connrate "$host" "$port" "$DURATION" 64 "$WORK/head1400.txt")
		k1=$(without_key)
		nokey=-
		[ -n "$k0" ] && [ -n "$k1" ] && nokey=$((k1 - k0))
		echo -e "$o\t$res\t$nokey" >> "$OUT/connrate_head.raw"
	done
done
lb_off

python3 - "$OUT/connrate_head.raw" <<'PY'
import sys, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    o, res, nokey = line.rstrip('\n').split('\t')
    opened, failed, rate = res.split()
    rows.setdefault(o, []).append((float(rate), int(failed), int(opened), nokey))
if rows:
    print("Connection setup with a 1.4 KiB request head: connections/s one client core")
    print("opens, sends the head in one write and gets the answer's first bytes (then RST),")
    print("64 in flight, medians of %d alternating rounds\n" % len(next(iter(rows.values()))))
    print("| option | requests/s | failed | x direct | x nginx | decided without the cookie |")
    print("|---|---|---|---|---|---|")
    med = {o: sorted(v)[len(v) // 2] for o, v in rows.items()}
    d = med.get('direct', (0,))[0]
    n = med.get('nginx-cookie', (0,))[0]
    for o, (rate, failed, opened, nokey) in med.items():
        print("| %s | %.0f | %d | %s | %s | %s |" % (o, rate, failed,
              "%.2f" % (rate / d) if d else "-", "%.2f" % (rate / n) if n else "-",
              nokey))
    print("\n(nginx-cookie: nginx in the node, hash $cookie_FooBar consistent, keep-alive")
    print("to the pods; maglb-Cookie binds each connection by its head in XDP. Decided")
    print("without the cookie: maglb's key_fallback + cookie_generated over the run,")
    print("which counts the heads still in flight at its end too)\n")
PY

python3 - "$OUT/connrate.raw" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    o, res = line.rstrip('\n').split('\t')
    opened, failed, rate = res.split()
    rows[o].append((float(rate), int(failed)))
print("Connection setup: TCP connections/s one client core opens (connect, then RST),")
print("64 in flight, medians of %d alternating rounds\n" % len(next(iter(rows.values()))))
print("| option | connections/s | failed | x direct | x nftables |")
print("|---|---|---|---|---|")
med = {o: sorted(v)[len(v) // 2] for o, v in rows.items()}
d = med.get('direct', (0, 0))[0]
n = med.get('nftables-DNAT', (0, 0))[0]
for o, (rate, failed) in med.items():
    print("| %s | %.0f | %d | %s | %s |" % (o, rate, failed,
          "%.2f" % (rate / d) if d else "-", "%.2f" % (rate / n) if n else "-"))
print("\n(maglb-Cookie answers the handshake itself with a SYN cookie; the pod")
print("is contacted at the first data, which this does not send)\n")
PY

# medians per option and mode
python3 - "$OUT/e2e.raw" "$OUT/e2e.tsv" <<'PY'
import sys, statistics as st, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    o, m, rps, p50, p99, cpu, err = line.rstrip('\n').split('\t')
    rows[(o, m)].append((float(rps), p50, p99, cpu, int(err)))
def med(k):
    v = sorted(rows[k], key=lambda x: x[0])
    return v[len(v) // 2]
opts = []
for o, m in rows:
    if o not in opts: opts.append(o)
out = open(sys.argv[2], 'w')
out.write("option\tkeepalive\tclose\n")
for o in opts:
    out.write("%s\t%.0f\t%.0f\n" % (o, med((o, 'keepalive'))[0], med((o, 'close'))[0]))
print("End to end: wrk -t2 -c32, 10 nginx pods, medians of %d alternating rounds\n" % len(rows[(opts[0], 'keepalive')]))
print("| option | mode | req/s | p50 | p99 | CPU s / 10k req (machine) | x direct | x nginx | errors |")
print("|---|---|---|---|---|---|---|---|---|")
for m in ('keepalive', 'close'):
    n = med(('nginx-cookie', m))[0] if ('nginx-cookie', m) in rows else 0
    for o in opts:
        # cookie options run wrk's Lua script: compare with direct that does
        base = 'direct-cookie' if 'ookie' in o and ('direct-cookie', m) in rows else 'direct'
        d = med((base, m))[0] if (base, m) in rows else 0
        rps, p50, p99, cpu, err = med((o, m))
        print("| %s | %s | %.0f | %s | %s | %s | %s | %s | %d |" % (
            o, m, rps, p50, p99, cpu, "%.2f" % (rps / d) if d else "-",
            "%.2f" % (rps / n) if n else "-", err))
print("\n(x direct: the *-cookie rows against direct-cookie, the same client script)")
PY

# the egress-path rows: what left by which path, over every run
[ -s "$OUT/egress.raw" ] && python3 - "$OUT/egress.raw" <<'PY'
import sys, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    row, want, ok, detail = (line.rstrip('\n').split('\t') + [''])[:4]
    r = rows.setdefault(row, [want, 0, collections.Counter()])
    r[1] += int(ok)
    for kv in detail.split():
        k, n = kv.rsplit('=', 1)
        r[2][k] += int(n)
print("\nEgress paths of the path rows (maglb_egress_stats, packets over all runs)\n")
print("| option | path wanted | packets by it | by device:path |")
print("|---|---|---|---|")
for row, (want, ok, c) in rows.items():
    print("| %s | %s | %d | %s |" % (row, want, ok, " ".join("%s=%d" % kv for kv in sorted(c.items()))))
PY
exit $failed
