#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A real browser: headless Chromium (Debian's) loads the seed's
# http://www.example.com/cookie through the VIP, the name mapped with
# --host-resolver-rules. The first response's Set-Cookie is stored with
# the configured attributes (read from the profile's cookie store), ten
# reloads reach the pod that answered first, and a second profile gets a
# cookie of its own. A third profile first gets 20 cookies of other names
# from a page (document.cookie), so FooBar comes last in a head of over
# 1 KiB, and its reloads still reach the pod `maglb lookup` names.
TOPO=mlb-br
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start nat

# load PROFILE: one page load in a fresh Chromium process with that
# profile; prints the pod that answered (the page is nginx's text body).
# The browser's own network log ($1.netlog) records the response headers.
load() {	# profile [url [host-resolver target]]
	nsx client timeout 60 chromium --headless=new --no-sandbox --disable-gpu \
		--no-first-run --disable-extensions --disable-background-networking \
		--user-data-dir="$1" --host-resolver-rules="MAP www.example.com ${3:-$VIP}" \
		--log-net-log="$1.netlog" --net-log-capture-mode=IncludeSensitive \
		--dump-dom "${2:-http://www.example.com/cookie}" 2>/dev/null |
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

# ---- a realistic head: 20 other cookies, then FooBar ----------------------

# The page that sets them, served by pod 0 itself (cookies know no port,
# so they are www.example.com's): analytics, consent, session and
# preference cookies of the sizes sites set, each kept for an hour.
twenty_cookies_page() {
	cat <<'HTML'
<html><body><pre id=c></pre><script>
var c = [
 "_ga=GA1.2.1234567890.1700000000", "_gid=GA1.2.987654321.1700000000",
 "_gat_UA-12345678-1=1", "_fbp=fb.1.1700000000000.1234567890",
 "_gcl_au=1.1.123456789.1700000000", "OptanonConsent=isGpcEnabled=0&datestamp=Mon+Nov+13+2023&version=6.33.0",
 "OptanonAlertBoxClosed=2023-11-13T10:00:00.000Z", "euconsent-v2=CP1aBcDP1aBcDAKAbCENAeEgAP_gAEPgAAAAINJB7D7FbSFCwH5zaLsAMAhHRsAAQoQAAASBAmABQAKQIAQCkkAQFASgBAACAAAgIAJBIQIMCAgACUABQAAAAAEEAAAAAAAIIAAAgAEAAAAIAAACAAAAEAAIAAAAEAAAmAgAAIIACAAAhAAAAAAAAAAAAAAAAgAA",
 "__cf_bm=0123456789abcdef0123456789abcdef01234567-1700000000-0-AbCdEf", "_hjSessionUser_123456=eyJpZCI6IjAxMjM0NTY3LTg5YWItY2RlZiJ9",
 "_hjSession_123456=eyJpZCI6Ijg5YWJjZGVmIn0=", "ajs_anonymous_id=01234567-89ab-cdef-0123-456789abcdef",
 "intercom-id-abc123=01234567-89ab-cdef-0123-456789abcdef", "csrftoken=0123456789abcdefABCDEF0123456789",
 "sessionid=q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6", "theme=dark", "lang=en-US", "currency=EUR",
 "recently_viewed=1234%2C5678%2C9012%2C3456", "ab_test_bucket=checkout-v2-b"
];
for (var i = 0; i < c.length; i++) document.cookie = c[i] + "; Max-Age=3600; Path=/";
document.getElementById("c").textContent = "cookies: " + document.cookie.split("; ").length;
</script></body></html>
HTML
}

# The request headers a net log shows sent, and their Cookie line.
sent_cookie_line() { grep -o '"Cookie: [^"\\]*\(\\"[^"\\]*\)*' "$1" | tail -1 | sed 's/^"//; s/\\"/"/g'; }

twenty_cookies_from_a_page_come_before_foobar() {
	local out pod line n
	twenty_cookies_page > "$WORK/files/cookies20.html"
	nsx client ip route add 10.20.1.0/24 via 10.10.0.1 2>/dev/null
	out=$(nsx client timeout 60 chromium --headless=new --no-sandbox --disable-gpu \
		--no-first-run --disable-extensions --disable-background-networking \
		--user-data-dir="$WORK/p3" --host-resolver-rules="MAP www.example.com $(backend_addr nat 0)" \
		--dump-dom "http://www.example.com:3000/files/cookies20.html" 2>/dev/null)
	nsx client ip route del 10.20.1.0/24 via 10.10.0.1
	echo "page on pod 0 set $(grep -o 'cookies: [0-9][0-9]*' <<<"$out")"
	grep -q 'cookies: 20' <<<"$out" || return 1
	# The first load through the VIP has no FooBar: it gets one.
	pod=$(load "$WORK/p3")
	cp "$WORK/p3.netlog" "$WORK/p3.first"
	line=$(received_set_cookie "$WORK/p3.first")
	echo "first load through the VIP: ${pod:-nobody}, $line"
	[ -n "$pod" ] && [ -n "$line" ] || return 1
	echo "$pod" > "$WORK/pod3"
	reset_logs
	load "$WORK/p3" >/dev/null
	line=$(sent_cookie_line "$WORK/p3.netlog")
	n=$(tr ';' '\n' <<<"$line" | grep -c '=')
	echo "reload sends $n cookies, last: ${line##*; }"
	[ "$n" = 21 ] && [[ "${line##*; }" =~ ^FooBar= ]]
}

# The pod's access log: the head's length ($request_length) and FooBar.
ten_reloads_with_twenty_one_cookies_reach_the_lookup_pod() {
	local i pod want out="" value before after lens new=0
	want=$(cat "$WORK/pod3")
	value=$(value_of "$WORK/p3.first")
	before=$(maglb stats --json | grep -o '"\(key_fallback\|cookie_generated\)":{"packets":[0-9]*' | grep -o '[0-9]*$' | paste -sd+ | bc)
	reset_logs
	for i in $(seq 10); do
		pod=$(load "$WORK/p3")
		out+="$pod "
		[ -z "$(received_set_cookie "$WORK/p3.netlog")" ] || new=$((new + 1))
	done
	after=$(maglb stats --json | grep -o '"\(key_fallback\|cookie_generated\)":{"packets":[0-9]*' | grep -o '[0-9]*$' | paste -sd+ | bc)
	lens=$(cat "$WORK"/backend-*/access.log | grep -o 'len=[0-9]*' | cut -d= -f2 | sort -n | uniq | paste -sd' ')
	echo "10 reloads: $out; $new of them got a new FooBar"
	echo "their heads, as the pods logged them: $lens bytes"
	echo "maglb lookup cookie-route --cookie FooBar=$value: $(maglb lookup cookie-route --cookie "FooBar=$value") ($want is $(backend_addr nat "${want#backend-}"))"
	echo "decided without the key over the reloads: $before -> $after"
	[ "$(grep -c . <<<"$(tr ' ' '\n' <<<"$out" | grep . | sort -u)")" = 1 ] &&
	[ "${out%% *}" = "$want" ] && [ "$after" = "$before" ] && [ "$new" = 0 ] &&
	[ "$(maglb lookup cookie-route --cookie "FooBar=$value")" = "$(backend_addr nat "${want#backend-}"):3000" ] &&
	[ "$(cut -d' ' -f1 <<<"$lens")" -gt 1024 ]
}

write_config "$CFG" nat Cookie
maglb apply -f "$CFG" >/dev/null || { fail browser_apply "apply failed"; exit 1; }
command -v chromium >/dev/null || { fail browser_chromium_installed "chromium missing (scripts/deps.sh installs it)"; exit 1; }
check first_load_stores_the_configured_cookie
check ten_reloads_reach_the_first_pod
check second_profile_gets_its_own_cookie
check twenty_cookies_from_a_page_come_before_foobar
check ten_reloads_with_twenty_one_cookies_reach_the_lookup_pod
