#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A bounded libFuzzer run of the request-head parser (bpf/lib/http.h)
# against the reference parser, from the checked-in seed corpus.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/* "$work/"
if build/tests/fuzz_http -max_total_time="$secs" -artifact_prefix="$work/" \
	"$work" > "$work/log" 2>&1; then
	runs=$(grep -o 'Done [0-9]* runs' "$work/log" | awk '{print $2}')
	echo "# $runs inputs in ${secs}s, no crash, no disagreement"
	echo "PASS http_parser_fuzzing_agrees_with_reference"
else
	grep -aE "disagreement|ERROR|SUMMARY" "$work/log" | head -3 | sed 's/^/# /'
	for f in "$work"/crash-*; do [ -e "$f" ] && echo "# input: $(base64 -w0 "$f")"; done
	echo "FAIL http_parser_fuzzing_agrees_with_reference: see lines above"
fi
