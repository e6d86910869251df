#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Sticky sessions for clients without a cookie (the seed's ttl: 60s): the
# first response gets Set-Cookie from the datapath, and the cookie, sent
# back, keeps the client on that pod. Real curl with a cookie jar and
# nginx, over IPv4 and IPv6, nat mode.
TOPO=mlb-sc
source "$(dirname "$0")/../lib/e2e.sh"
set -u
e2e_start nat

use_family() {
	FAM=$1
	if [ "$1" = 6 ]; then V="[$VIP6]" SVC=cookie-route-v6 LABEL=nat-ipv6; else V=$VIP SVC=cookie-route LABEL=nat; fi
}

be_addr() {
	if [ "$FAM" = 6 ]; then echo "[$(backend_addr6 nat "$1")]:3000"; else echo "$(backend_addr nat "$1"):3000"; fi
}

# jar_get JAR [curl args]: a seed request with the jar; prints the pod
jar_get() {
	local jar=$1
	shift
	nsx client curl -g -sS -m 10 -D "$WORK/headers" -b "$jar" -c "$jar" \
		-H "Host: www.example.com" "$@" "http://$V/cookie"
}

set_cookie_line() { tr -d '\r' < "$WORK/headers" | grep -i '^set-cookie:'; }

first_response_sets_the_configured_cookie() {
	local pod line
	rm -f "$WORK/jar1"
	pod=$(jar_get "$WORK/jar1") || return 1
	line=$(set_cookie_line)
	echo "first answer from $pod; $line"
	[[ "$line" =~ ^Set-Cookie:\ FooBar=\"[0-9a-f]{16}\"\;\ Max-Age=60\;\ Path=/\;\ SameSite=Strict\;\ HttpOnly$ ]] || return 1
	echo "$pod" > "$WORK/pod1"
}

jar_keeps_ten_requests_on_the_first_pod() {
	local i pod want value
	want=$(cat "$WORK/pod1")
	for i in $(seq 10); do
		pod=$(jar_get "$WORK/jar1") || return 1
		[ "$pod" = "$want" ] || { echo "request $i went to $pod, not $want"; return 1; }
		set_cookie_line | grep -q . && { echo "a cookie sent back got a new one"; return 1; }
	done
	value=$(awk '$6 == "FooBar" {print $7}' "$WORK/jar1" | tr -d '"')
	echo "10 requests with FooBar=$value -> $want; lookup says $(maglb lookup "$SVC" --cookie "FooBar=$value")"
	[ "$(maglb lookup "$SVC" --cookie "FooBar=$value")" = "$(be_addr "${want#backend-}")" ]
}

new_clients_get_their_own_cookies() {
	local i values pods
	for i in $(seq 8); do
		rm -f "$WORK/jar-n"
		pods+="$(jar_get "$WORK/jar-n") "
		values+="$(awk '$6 == "FooBar" {print $7}' "$WORK/jar-n") "
	done
	echo "8 new clients: pods $pods"
	[ "$(tr ' ' '\n' <<<"$values" | grep . | sort -u | wc -l)" = 8 ] &&
		[ "$(tr ' ' '\n' <<<"$pods" | grep . | sort -u | wc -l)" -ge 2 ]
}

# Many segments after the grown one: both directions stay translated.
large_response_after_the_cookie_is_intact() {
	download_intact 20M "$V" || return 1
	set_cookie_line
	set_cookie_line | grep -q FooBar
}

keepalive_requests_after_the_cookie_are_answered() {
	local out
	rm -f "$WORK/jar-k"
	out=$(nsx client curl -g -sS -m 10 -H "Host: www.example.com" -c "$WORK/jar-k" \
		"http://$V/cookie" "http://$V/cookie" "http://$V/cookie")
	echo "$out" | tr '\n' ' '
	[ "$(wc -l <<<"$out")" = 3 ] && [ "$(sort -u <<<"$out" | wc -l)" = 1 ]
}

lossy_path_still_sets_one_cookie_per_client() {
	local ok
	nsx client nft -f - <<NFT || return 1
table inet loss {
	chain in { type filter hook input priority 0; numgen random mod 100 < 5 drop; }
}
NFT
	ok=$(seq 200 | nsx client xargs -P 8 -I{} sh -c \
		"curl -g -sS -m 30 -D - -o /dev/null -H 'Host: www.example.com' http://$V/cookie | grep -c '^Set-Cookie: FooBar=\"[0-9a-f]\{16\}\"'" |
		grep -c '^1$')
	nsx client nft delete table inet loss
	echo "$ok of 200 responses carried exactly one Set-Cookie with 5% loss on the way back"
	[ "$ok" = 200 ]
}

session_cookie_has_no_max_age() {
	local line
	write_config "$CFG" nat Cookie
	sed -i 's/ttl: 60s/ttl: 0/' "$CFG"
	maglb apply -f "$CFG" >/dev/null || return 1
	rm -f "$WORK/jar-s"
	jar_get "$WORK/jar-s" >/dev/null || return 1
	line=$(set_cookie_line)
	echo "$line"
	write_config "$CFG" nat Cookie
	maglb apply -f "$CFG" >/dev/null
	[[ "$line" =~ ^Set-Cookie:\ FooBar=\"[0-9a-f]{16}\"\;\ Path=/\;\ SameSite=Strict\;\ HttpOnly$ ]]
}

write_config "$CFG" nat Cookie
maglb apply -f "$CFG" >/dev/null || { fail setcookie_apply "apply failed"; exit 1; }
for fam in 4 6; do
	use_family $fam
	check first_response_sets_the_configured_cookie
	check jar_keeps_ten_requests_on_the_first_pod
	check new_clients_get_their_own_cookies
	check large_response_after_the_cookie_is_intact
	check keepalive_requests_after_the_cookie_are_answered
	check lossy_path_still_sets_one_cookie_per_client
	check session_cookie_has_no_max_age
done
