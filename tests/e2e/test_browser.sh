#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A real browser: headless Chromium (Debian's) loads the seed's
# http://www.example.com/cookie through the VIP, the name mapped with
# --host-resolver-rules. The first response's Set-Cookie is stored with
# the configured attributes (read from the profile's cookie store), ten
# reloads reach the pod that answered first, and a second profile gets a
# cookie of its own.
TOPO=mlb-br
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start nat

# load PROFILE: one page load in a fresh Chromium process with that
# profile; prints the pod that answered (the page is nginx's text body).
# The browser's own network log ($1.netlog) records the response headers.
load() {
	nsx client timeout 60 chromium --headless=new --no-sandbox --disable-gpu \
		--no-first-run --disable-extensions --disable-background-networking \
		--user-data-dir="$1" --host-resolver-rules="MAP www.example.com $VIP" \
		--log-net-log="$1.netlog" --net-log-capture-mode=IncludeSensitive \
		--dump-dom "http://www.example.com/cookie" 2>/dev/null |
		grep -o 'backend-[0-9]*' | head -1
}

# The Set-Cookie header as the browser received it, from a net log (JSON;
# header lines are its strings).
received_set_cookie() {
	grep -o '"[Ss]et-[Cc]ookie: [^"\\]*\(\\"[^"\\]*\)*' "$1" | head -1 |
		sed 's/^"//; s/\\"/"/g'
}

# cookie PROFILE: "name path samesite httponly max-age-seconds" of the
# stored FooBar cookie (Chromium's store: expiry in microseconds since
# 1601; samesite 2 = Strict; the value itself is stored encrypted).
cookie() {
	python3 - "$1/Default/Cookies" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for name, path, ss, ho, exp in db.execute(
        "select name, path, samesite, is_httponly, expires_utc from cookies where name = 'FooBar'"):
    left = exp / 1e6 - 11644473600 - time.time()
    print(name, path, {2: "Strict", 1: "Lax", 0: "None"}.get(ss, ss), ho, round(left))
EOF
}

first_load_stores_the_configured_cookie() {
	local pod c h
	pod=$(load "$WORK/p1")
	cp "$WORK/p1.netlog" "$WORK/p1.first"	# later loads log anew
	h=$(received_set_cookie "$WORK/p1.first")
	c=$(cookie "$WORK/p1")
	echo "first load answered by ${pod:-nobody}"
	echo "received: $h"
	echo "stored: $c"
	echo "$pod" > "$WORK/pod1"
	[ -n "$pod" ] &&
	[[ "$h" =~ ^Set-Cookie:\ FooBar=\"[0-9a-f]{16}\"\;\ Max-Age=60\;\ Path=/\;\ SameSite=Strict\;\ HttpOnly$ ]] &&
	[[ "$c" =~ ^FooBar\ /\ Strict\ 1\ ([0-9]+)$ ]] &&
		[ "${BASH_REMATCH[1]}" -ge 50 ] && [ "${BASH_REMATCH[1]}" -le 60 ]
}

value_of() { received_set_cookie "$1" | grep -o '"[0-9a-f]*"' | tr -d '"'; }	# net log

ten_reloads_reach_the_first_pod() {
	local i pod want out=""
	want=$(cat "$WORK/pod1")
	for i in $(seq 10); do
		pod=$(load "$WORK/p1")
		out+="$pod "
		[ "$pod" = "$want" ] || { echo "reload $i: $out"; return 1; }
	done
	echo "10 reloads: $out"
	local value; value=$(value_of "$WORK/p1.first")
	echo "maglb lookup cookie-route --cookie FooBar=$value: $(maglb lookup cookie-route --cookie "FooBar=$value")"
	[ "$(maglb lookup cookie-route --cookie "FooBar=$value")" = "$(backend_addr nat "${want#backend-}"):3000" ]
}

second_profile_gets_its_own_cookie() {
	local pod c1 c2
	pod=$(load "$WORK/p2")
	c1=$(value_of "$WORK/p1.first")
	c2=$(value_of "$WORK/p2.netlog")
	echo "profile 2: ${pod:-nobody}, FooBar=$c2 (profile 1: FooBar=$c1, $(cat "$WORK/pod1"))"
	[ -n "$pod" ] && [ -n "$c2" ] && [ "$c1" != "$c2" ]
}

write_config "$CFG" nat Cookie
maglb apply -f "$CFG" >/dev/null || { fail browser_apply "apply failed"; exit 1; }
command -v chromium >/dev/null || { fail browser_chromium_installed "chromium missing (scripts/deps.sh installs it)"; exit 1; }
check first_load_stores_the_configured_cookie
check ten_reloads_reach_the_first_pod
check second_profile_gets_its_own_cookie
