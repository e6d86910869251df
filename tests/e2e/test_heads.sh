#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Request heads of browser size and beyond, two-arm nat topology: real curl
# and nginx. Each head is written in one write(), many X-Pad-N lines and
# then the Cookie (or the X-User header) last, so the key sits in the last
# segment of a head that Linux sends as one or several segments. Each
# request must land where `maglb lookup` says, and none may be decided
# without its key (key_fallback, cookie_generated). A head's size is
# nginx's $request_length in the pod's access log, checked to the byte.
# Heads at and past the 8 KiB limit (MAGLB_HEAD_MAX) are served, by their
# cookie up to it and by the fallback hash past it, counted as
# head_too_long. Run over IPv4, then IPv6 (checks named nat-ipv6/...).
TOPO=mlb-hd
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start nat

SIZES="700 1400 3000 4096"
VALUES=8

use_family() {
	FAM=$1
	if [ "$1" = 6 ]; then
		V="[$VIP6]" VADDR=$VIP6 SVC=cookie-route-v6 LABEL=nat-ipv6
	else
		V=$VIP VADDR=$VIP SVC=cookie-route LABEL=nat
	fi
}

be_addr() {
	if [ "$FAM" = 6 ]; then echo "[$(backend_addr6 nat "$1")]:3000"; else echo "$(backend_addr nat "$1"):3000"; fi
}

# The issue's case: a Cookie policy without ttl, so a head whose key is
# missed falls back to SourceIP and counts as key_fallback. hash: Cookie
# or Header.
apply_no_ttl() {
	write_config "$CFG" nat "$1"
	sed -i 's/cookie: {name: FooBar, ttl: 60s, attributes: {SameSite: Strict}}/cookie: {name: FooBar}/' "$CFG"
	maglb apply -f "$CFG" >/dev/null
}

stat_of() {	# reason
	maglb stats --json | grep -o "\"$1\":{\"packets\":[0-9]*" | grep -o '[0-9]*$' | paste -sd+ | bc
}
# requests decided without their key: the fallback hash, or a made cookie
without_key() { echo $(( $(stat_of key_fallback) + $(stat_of cookie_generated) )); }

REQ_LINE="GET /cookie HTTP/1.1"
UA="User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
ACCEPT="Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

# head_args SIZE LAST: curl -H arguments (in HEAD_ARGS) for a head of
# exactly SIZE bytes: the request line, Host, User-Agent, Accept, X-Pad-N
# lines of about 100 bytes, then LAST, then the blank line.
head_args() {
	local size=$1 last=$2 h n=1 left len name
	local fixed=("Host: www.example.com" "$UA" "$ACCEPT")
	left=$((size - ${#REQ_LINE} - 2 - ${#last} - 2 - 2))
	HEAD_ARGS=()
	for h in "${fixed[@]}"; do
		HEAD_ARGS+=(-H "$h")
		left=$((left - ${#h} - 2))
	done
	while ((left > 0)); do
		len=$((left > 200 ? 100 : left))	# with its CRLF
		name="X-Pad-$n: "
		((len >= ${#name} + 3)) || { echo "head_args: $size leaves $left bytes" >&2; return 1; }
		HEAD_ARGS+=(-H "$name$(head -c $((len - ${#name} - 2)) /dev/zero | tr '\0' p)")
		left=$((left - len))
		n=$((n + 1))
	done
	HEAD_ARGS+=(-H "$last")
}

# Several cookies before FooBar, as a site with analytics has.
cookie_line() { echo "Cookie: _ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; session=0123456789abcdef0123456789abcdef; theme=dark; lang=en-US; FooBar=$1"; }

# The pod whose access log holds a request of LEN bytes with FooBar=VALUE
# (or, for a Header head, any of LEN bytes); "none" if no pod has one.
pod_of() {	# len [cookie]
	local f
	f=$(grep -l "len=$1 cookie=${2:--}\$" "$WORK"/backend-*/access.log | head -1)
	[ -n "$f" ] && basename "$(dirname "$f")" || echo none
}

# backend index of a `maglb lookup` answer
idx_of() {
	local i
	for ((i = 0; i < NBACKENDS; i++)); do
		[ "$(be_addr "$i")" = "$1" ] && { echo "$i"; return; }
	done
	echo "?"
}

# head_lands SIZE LAST [cookie]: one curl request with that head, answered
# 200; prints the index of the pod that logged it ("none": no pod logged a
# request of SIZE bytes with that cookie).
head_lands() {
	local size=$1 last=$2 ck=${3:-} code pod
	head_args "$size" "$last" || return 1
	reset_logs
	code=$(nsx client curl -g -sS -m 10 -o /dev/null -w '%{http_code}' \
		"${HEAD_ARGS[@]}" "http://$V/cookie") || return 1
	[ "$code" = 200 ] || { echo "HTTP $code"; return 1; }
	pod=$(pod_of "$size" "$ck")
	echo "${pod#backend-}"
}

# heads SIZE KIND: VALUES requests with heads of SIZE bytes, KIND's key
# (Cookie: five cookies, then FooBar=...; Header: X-User) last. One line
# per size: the pods they reached and those `maglb lookup` names.
heads() {	# size kind [count]
	local size=$1 kind=$2 n=${3:-$VALUES} i v got want gots="" wants="" bad=0
	for ((i = 1; i <= n; i++)); do
		v="h$size-u$i"
		if [ "$kind" = Cookie ]; then
			want=$(idx_of "$(maglb lookup "$SVC" --cookie "FooBar=$v")")
			got=$(head_lands "$size" "$(cookie_line "$v")" "$v") || { echo "$size bytes, FooBar=$v: $got"; return 1; }
		else
			want=$(idx_of "$(maglb lookup "$SVC" --header "X-User=$v")")
			got=$(head_lands "$size" "X-User: $v") || { echo "$size bytes, X-User: $v: $got"; return 1; }
		fi
		gots+="$got " wants+="$want "
		[ "$got" = "$want" ] || bad=$((bad + 1))
	done
	echo "$size-byte heads ($kind last): pods $gots; lookup $wants; $((n - bad))/$n match"
	[ "$bad" = 0 ]
}

# Heads of 0.7, 1.4, 3 and 4 KiB (one to three segments), 8 cookie
# values each, the Cookie header last with five cookies before FooBar.
heads_up_to_4k_land_on_the_lookup_backend() {
	local size before after rc=0
	apply_no_ttl Cookie || return 1
	before=$(without_key)
	for size in $SIZES; do heads "$size" Cookie || rc=1; done
	after=$(without_key)
	echo "decided without the key (key_fallback + cookie_generated): $before -> $after"
	[ "$rc" = 0 ] && [ "$after" = "$before" ]
}

# The issue's repro: a Chrome-like head of 764 bytes, written in one
# send(), FooBar= at byte 747 of it, for 8 cookie values of 6 bytes. Linux
# sent it as 2 segments while the SYN-ACK offered one MSS, and all 8 fell
# back to one pod. Prints the pod that answered (its body).
chrome_head() {	# value
	nsx client python3 - "$VADDR" "$1" <<'PY'
import socket, sys
host, v = sys.argv[1], sys.argv[2]
assert len(v) == 6
lines = [
    "GET /cookie HTTP/1.1",
    "Host: www.example.com",
    "Connection: keep-alive",
    "Upgrade-Insecure-Requests: 1",
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "Referer: http://www.example.com/",
    "Accept-Encoding: gzip, deflate",
    "Accept-Language: en-US,en;q=0.9,de;q=0.8",
]
pre = "\r\n".join(lines) + "\r\nCookie: _ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; "
left = 747 - len(pre) - len("; ")
pre += "session=" + "s" * (left - len("session=")) + "; "
head = (pre + "FooBar=" + v + "\r\n\r\n").encode()
assert len(head) == 764 and head.index(b"FooBar=") == 747, (len(head), head.index(b"FooBar="))
s = socket.create_connection((host, 80), timeout=5)
s.send(head)		# one write
got = b""
while b"backend-" not in got or not got.endswith(b"\n"):
    d = s.recv(4096)
    if not d:
        break
    got += d
s.close()
status = got.split(b"\r\n", 1)[0].decode()
body = got.split(b"\r\n\r\n", 1)[-1].decode().strip()
print(status if "200" not in status else body)
PY
}

chrome_764_byte_head_lands_on_the_lookup_backend() {
	local i v got want gots="" wants="" bad=0 before after
	apply_no_ttl Cookie || return 1
	before=$(stat_of key_fallback)
	for i in 1 2 3 4 5 6 7 8; do
		v="chr-0$i"
		want=$(idx_of "$(maglb lookup "$SVC" --cookie "FooBar=$v")")
		reset_logs
		got=$(chrome_head "$v")
		[[ "$got" =~ ^backend-[0-9]+$ ]] || { echo "FooBar=$v: $got"; return 1; }
		[ "$(pod_of 764 "$v")" = "$got" ] || { echo "no 764-byte request with FooBar=$v in $got's log"; return 1; }
		gots+="${got#backend-} " wants+="$want "
		[ "${got#backend-}" = "$want" ] || bad=$((bad + 1))
	done
	after=$(stat_of key_fallback)
	echo "764-byte head, FooBar= at byte 747: pods $gots; lookup $wants; $((8 - bad))/8 match"
	echo "key_fallback: $before -> $after"
	[ "$bad" = 0 ] && [ "$after" = "$before" ]
}

# Header hashing with a long head: X-User last, after 3 and 4 KiB of
# other headers.
header_mode_long_heads_land_on_the_lookup_backend() {
	local before after rc=0
	apply_no_ttl Header || return 1
	before=$(without_key)
	heads 3000 Header || rc=1
	heads 4096 Header || rc=1
	after=$(without_key)
	echo "decided without the key: $before -> $after"
	[ "$rc" = 0 ] && [ "$after" = "$before" ]
}

# The limit itself: a head of up to MAGLB_HEAD_MAX (8192) bytes, its
# blank line included, is whole and lands by its cookie, whichever of its
# bytes the cookie ends in; one just beyond it (the cookie past 8192) is
# served by the fallback pod, counted as head_too_long. 3 values each.
heads_at_the_8k_limit_land_or_fall_back_and_are_served() {
	local size before after long0 long1 rc=0 v got fb src=10.10.0.2
	[ "$FAM" = 6 ] && src=fd00:10::2
	apply_no_ttl Cookie || return 1
	before=$(without_key)
	for size in 8000 8150 8192; do heads "$size" Cookie 3 || rc=1; done
	after=$(without_key)
	echo "up to 8192 bytes, decided without the key: $before -> $after"
	[ "$after" = "$before" ] || rc=1
	fb=$(idx_of "$(maglb lookup "$SVC" --src "$src")")
	for size in 8300 8600; do
		v="over-$size" long0=$(stat_of head_too_long)
		got=$(head_lands "$size" "$(cookie_line "$v")" "$v") || got="failed: $got"
		long1=$(stat_of head_too_long)
		echo "$size-byte head: served by backend-$got (fallback pod $fb); head_too_long ${long0:-none} -> ${long1:-none}"
		[ "$got" = "$fb" ] && [ -n "$long1" ] && [ "$long1" = $((${long0:-0} + 1)) ] || rc=1
	done
	return $rc
}

# A head over the limit: 10 KiB, FooBar beyond its first 8 KiB
# (MAGLB_HEAD_MAX). It is balanced by those 8 KiB, which hold no cookie:
# the fallback pod serves it, counted as head_too_long and key_fallback.
head_over_the_limit_is_served_by_the_fallback() {
	local v=over-limit got fb src=10.10.0.2 before after long0 long1
	[ "$FAM" = 6 ] && src=fd00:10::2
	apply_no_ttl Cookie || return 1
	fb=$(idx_of "$(maglb lookup "$SVC" --src "$src")")
	before=$(without_key) long0=$(stat_of head_too_long)
	got=$(head_lands 10240 "$(cookie_line "$v")" "$v") || { echo "10240-byte head: $got"; return 1; }
	after=$(without_key) long1=$(stat_of head_too_long)
	echo "10240-byte head, FooBar= at byte $((10240 - 4 - ${#v} - 7)): served by backend-$got; the fallback (SourceIP) pod: $fb"
	echo "decided without the key: $before -> $after; head_too_long: ${long0:-none} -> ${long1:-none}"
	[ "$got" = "$fb" ] && [ "$after" = $((before + 1)) ] &&
		[ -n "$long1" ] && [ "$long1" = $((${long0:-0} + 1)) ]
}

for fam in 4 6; do
	use_family $fam
	check chrome_764_byte_head_lands_on_the_lookup_backend
	check heads_up_to_4k_land_on_the_lookup_backend
	check header_mode_long_heads_land_on_the_lookup_backend
	check heads_at_the_8k_limit_land_or_fall_back_and_are_served
	check head_over_the_limit_is_served_by_the_fallback
done
