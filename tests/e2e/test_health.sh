#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Active health checks: a pod whose server stops leaves the Maglev table
# within two intervals plus the timeout, the other pods' slots barely move,
# and it comes back to exactly the old table when it recovers.
TOPO=mlb-hc
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start nat
AGENT_LOG=$WORK/agent.log

hc_config() {	# type extra-yaml
	write_config "$CFG" nat Tuple
	python3 - "$CFG" "$1" "$2" <<'PY'
import sys
path, kind, extra = sys.argv[1:]
s = open(path).read()
block = ("  healthCheck:\n    active:\n      type: %s\n      interval: 1s\n"
         "      timeout: 500ms\n      unhealthyThreshold: 2\n      healthyThreshold: 1\n%s" % (kind, extra))
# only the IPv4 service, before its backends
s = s.replace("  backends:\n", block + "  backends:\n", 1)
open(path, "w").write(s)
PY
}

slots_of() { maglb table cookie-route --json | grep -o "\"backend\":\"$1\",\"weight\":[0-9]*,\"slots\":[0-9]*" | grep -o '[0-9]*$'; }
now_ms() { date +%s%3N; }
backend_conns() {	# ADDR:PORT -> its new_conns in `maglb stats --json`
	maglb stats --json | python3 -c 'import json, sys
print(sum(b["new_conns"] for s in json.load(sys.stdin)["services"]
          for b in s["backends"] if b["backend"] == sys.argv[1]))' "$1"
}

AGENT_ARGS=(-f "$CFG" --metrics-address 127.0.0.1:9100)
# Room for thousands of connections, as a DaemonSet's container has.
ulimit -n 16384

# idle_clients SPEC...: hold idle connections to the metrics port, each
# SPEC "SOURCES x N" (SOURCES addresses from 127.0.0.2 on, N from each);
# prints how many each SPEC still has open half a second later, then holds
# them until stdin closes (at most 20 s).
idle_clients() {
	nsx node python3 - "$@" <<'PY'
import resource, select, socket, sys, time
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
groups, first = [], 2
for spec in sys.argv[1:]:
    sources, n = (int(x) for x in spec.split("x"))
    socks = []
    for a in range(first, first + sources):
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.%d" % a, 0))
            s.connect(("127.0.0.1", 9100))
            socks.append(s)
    first += sources
    groups.append(socks)
time.sleep(0.5)
out = []
for socks in groups:
    live = 0
    for s in socks:
        # a connection the server closed is readable, with no data (poll:
        # select() stops at descriptor 1024 here too)
        p = select.poll()
        p.register(s, select.POLLIN)
        try:
            live += not p.poll(0) or s.recv(1, socket.MSG_PEEK) != b""
        except OSError:
            pass
    out.append("%d/%d" % (live, len(socks)))
print(" ".join(out), flush=True)
p = select.poll()
p.register(sys.stdin, select.POLLIN)
p.poll(20000)
PY
}

healthz_answers_with_2000_idle_connections_open() {
	local fifo=$WORK/idle.fifo line pid t0 ms rc=0 body
	rm -f "$fifo" && mkfifo "$fifo"
	# 2,000 from 80 addresses (each under the per-address limit), and 100
	# more from one address, which keeps only its limit's worth
	exec {hold}> >(idle_clients 80x25 1x100 > "$fifo")
	pid=$!
	read -r -t 30 line < "$fifo" || { echo "the idle clients did not connect"; exec {hold}>&-; return 1; }
	# a probe's period is seconds: five in a row, each within 1 s
	for _ in 1 2 3 4 5; do
		t0=$(now_ms)
		body=$(nsx node curl -sS -m 1 http://127.0.0.1:9100/healthz 2>&1) || rc=1
		ms=$(( $(now_ms) - t0 ))
		[ "$rc" = 0 ] && [ "$body" = ok ] && (( ms < 1000 )) || { rc=1; break; }
	done
	exec {hold}>&-
	wait "$pid" 2>/dev/null
	echo "idle connections still open: ${line% *} of 80 addresses, ${line#* } of one address; /healthz: \"$body\" in $ms ms"
	grep -m1 FD_SETSIZE "$AGENT_LOG"
	[ "$rc" = 0 ] || return 1
	[ "${line% *}" = 2000/2000 ] || { echo "the server closed idle connections within 0.5 s"; return 1; }
	[ "${line#* }" = 32/100 ] || { echo "one address kept ${line#* }, not 32 (the per-address limit)"; return 1; }
}

unhealthy_backend_leaves_the_table_within_two_intervals() {
	local be3 t0 t1 moved m n0 n1
	be3="$(backend_addr nat 3):3000"
	sleep 1.5
	maglb table cookie-route --slots > "$WORK/before"
	nsx client wrk -t2 -c16 -d8s -H "Connection: close" "http://$VIP/" > "$WORK/wrk.txt" 2>&1 &
	local wrk=$!
	sleep 1
	t0=$(now_ms)
	kill "$(cat "$WORK/backend-3/nginx.pid")"
	until [ "$(slots_of "$be3")" = 0 ]; do
		(( $(now_ms) - t0 > 6000 )) && { echo "still in the table after 6 s"; return 1; }
		sleep 0.05
	done
	t1=$(now_ms)
	maglb table cookie-route --slots > "$WORK/after"
	n0=$(backend_conns "$be3")
	sleep 1.5
	n1=$(backend_conns "$be3")
	wait $wrk
	m=$(wc -l < "$WORK/before")
	# slots that moved although they did not belong to backend-3
	moved=$(paste -d' ' "$WORK/before" "$WORK/after" | awk -v b="$be3" '$2 != b && $2 != $4' | wc -l)
	echo "left the table $((t1 - t0)) ms after its server stopped (limit 2 x 1000 + 500 ms)"
	echo "other backends' slots moved: $moved of $m ($(awk -v a="$moved" -v b="$m" 'BEGIN {printf "%.3f%%", 100 * a / b}'))"
	echo "new connections to it after removal: $((n1 - n0))"
	grep "health changed" "$AGENT_LOG" | tail -1
	(( t1 - t0 <= 2500 + 300 )) || return 1	# 300 ms: agent poll slack
	(( moved * 100 <= m * 2 )) || return 1		# Maglev churn, << 2%
	[ "$n1" = "$n0" ]
}

scrape() { nsx node curl -sS -m 5 "http://127.0.0.1:9100$1"; }

ct_entries() {	# both conntrack maps' entries, as bpftool dumps them
	local f n=0
	for f in maglb_ct4 maglb_ct6; do
		n=$(( n + $(bpftool -j map dump pinned "$PIN_DIR/$f" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))') ))
	done
	echo "$n"
}

metrics_agree_with_stats_and_show_health() {
	local be3 m want got ct0 ct1 ct
	be3="$(backend_addr nat 3):3000"
	ct0=$(ct_entries)
	m=$(scrape /metrics) || return 1
	ct1=$(ct_entries)
	# the batch count matches a dump's (between the dumps either side)
	ct=$(awk '/^maglb_conntrack_entries / {print $2}' <<<"$m")
	echo "conntrack entries: metrics ${ct:-none}, bpftool $ct0 before and $ct1 after"
	[ -n "$ct" ] && (( ct >= (ct0 < ct1 ? ct0 : ct1) && ct <= (ct0 > ct1 ? ct0 : ct1) )) || return 1
	grep -q "^maglb_backend_healthy{service=\"cookie-route\",backend=\"$be3\"} 0$" <<<"$m" ||
		{ echo "backend-3 not reported unhealthy"; return 1; }
	grep -q "^maglb_backend_healthy{service=\"cookie-route\",backend=\"$(backend_addr nat 4):3000\"} 1$" <<<"$m" ||
		{ echo "backend-4 not reported healthy"; return 1; }
	# no traffic now: the scrape and `maglb stats` read the same maps
	want=$(maglb stats --json | python3 -c 'import json, sys
print([s["new_conns"] for s in json.load(sys.stdin)["services"] if s["service"] == "cookie-route"][0])')
	got=$(awk -F' ' '/^maglb_service_connections_total\{service="cookie-route"/ {print $2}' <<<"$m")
	echo "connections: metrics $got, maglb stats $want; $(grep -c '^maglb_' <<<"$m") samples"
	[ -n "$got" ] && [ "$got" = "$want" ] || return 1
	grep -q '^maglb_config_generation [1-9]' <<<"$m" && grep -q '^maglb_last_apply_success 1$' <<<"$m" &&
		grep -q '^maglb_conntrack_entries [0-9]' <<<"$m" &&
		grep -q '^maglb_packets_total{reason="pass_kernel_tc"} [1-9]' <<<"$m" ||
		return 1
	# The pods' bridge port is bare: what goes to them leaves eth1 by TC.
	grep -q '^maglb_egress_packets_total{device="eth1",path="tc"} [1-9]' <<<"$m" ||
		{ echo "no egress by tc on eth1"; return 1; }
	[ "$(scrape /readyz)" = ready ] && [ "$(scrape /healthz)" = ok ]
}

# Prometheus' own linter on a real scrape: names, types, HELP, suffixes.
metrics_pass_promtool_check() {
	local m out
	m=$(scrape /metrics) || return 1
	out=$(promtool check metrics <<<"$m" 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
}

recovered_backend_gets_its_exact_slots_back() {
	local be3 t0 t1
	be3="$(backend_addr nat 3):3000"
	t0=$(now_ms)
	start_nginx 3
	until [ "$(slots_of "$be3")" != 0 ]; do
		(( $(now_ms) - t0 > 6000 )) && { echo "not back after 6 s"; return 1; }
		sleep 0.05
	done
	t1=$(now_ms)
	maglb table cookie-route --slots > "$WORK/again"
	echo "back in the table $((t1 - t0)) ms after its server started"
	cmp -s "$WORK/before" "$WORK/again" || { echo "table differs from before"; return 1; }
	echo "the table is identical to the one before the failure"
}

http_check_demands_the_expected_status() {
	local t0 all
	t0=$(now_ms)
	while :; do
		all=$(maglb table cookie-route --json | grep -o '"slots":[1-9][0-9]*' | wc -l)
		[ "$all" = 0 ] && break
		(( $(now_ms) - t0 > 6000 )) && { echo "$all backends still have slots"; return 1; }
		sleep 0.1
	done
	echo "all 10 backends out after $(( $(now_ms) - t0 )) ms: status 200 is not an expected 204"
}

# The config renamed over by a symlink to a FIFO (issue 16): the agent
# refuses it at once instead of blocking in open() on the FIFO, keeps
# serving, takes the real file back, and still stops at once on SIGTERM.
# A FIFO that held it is opened for writing after 3 s, so a failing
# agent is released rather than hanging the suite.
agent_refuses_a_fifo_swapped_in_for_its_config() {
	local fifo=$WORK/swap.fifo n0 n1 t0 refused=
	n0=$(grep -c "config applied" "$AGENT_LOG")
	rm -f "$fifo" "$CFG.fifo" && mkfifo "$fifo"
	cp "$CFG" "$CFG.real"
	ln -s "$fifo" "$CFG.fifo" && mv -T "$CFG.fifo" "$CFG"
	t0=$(now_ms)
	while (( $(now_ms) - t0 < 3000 )); do
		refused=$(grep -m1 "regular file" "$AGENT_LOG") && break
		sleep 0.05
	done
	[ -n "$refused" ] || timeout 2 sh -c ": > '$fifo'"
	echo "${refused:-no refusal logged in 3 s}"
	[ "$(nsx node curl -sS -m 1 http://127.0.0.1:9100/healthz)" = ok ] ||
		{ echo "/healthz does not answer"; return 1; }
	mv -T "$CFG.real" "$CFG"
	kill -HUP "$AGENT"	# the content is the same as applied: force it
	t0=$(now_ms)
	until n1=$(grep -c "config applied" "$AGENT_LOG"); (( n1 > n0 )); do
		(( $(now_ms) - t0 > 3000 )) && { echo "the real config not applied again in 3 s"; return 1; }
		sleep 0.05
	done
	echo "the real config applied again $(( $(now_ms) - t0 )) ms after it came back"
	rm -f "$fifo"
	[ -n "$refused" ]
}

hc_config TCP ""
start_agent "${AGENT_ARGS[@]}" || { fail agent_start "$(tail -3 "$AGENT_LOG")"; exit 1; }
check unhealthy_backend_leaves_the_table_within_two_intervals
check metrics_agree_with_stats_and_show_health
check metrics_pass_promtool_check
check healthz_answers_with_2000_idle_connections_open
check recovered_backend_gets_its_exact_slots_back
stop_agent
# every pod answers 200 on /: expecting 204 makes them all fail
hc_config HTTP "      http: {path: /, expectedStatuses: [204]}
"
start_agent "${AGENT_ARGS[@]}" || { fail agent_restart "$(tail -3 "$AGENT_LOG")"; exit 1; }
check http_check_demands_the_expected_status
check agent_refuses_a_fifo_swapped_in_for_its_config
if stop_agent; then pass agent_exits_cleanly_on_sigterm_with_metrics_running
else fail agent_exits_cleanly_on_sigterm_with_metrics_running "exit status $?"; fi
