#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# plot_flows.sh PKT_TXT PNG - the per-packet cost of an established flow
# against the number of concurrent flows, from bench_pkt's conntrack scale
# rows ("established, N flows, random order"), with the cache-miss floor
# (1M random reads of a map holding 2M entries, as the conntrack at 1M
# connections does) as a line. ns above XDP_TX.
set -euo pipefail
in=$1 out=$2
tsv=${out%.png}.tsv
awk -F'|' '
	/established, [0-9]+ flows, random order/ {
		split($2, w, " "); gsub(/[ ,]/, "", w[2]); print w[2] "\t" $4 + 0 }
	/cache-miss floor/ { floor = $4 + 0 }
	END { if (floor) print "# floor\t" floor }' "$in" > "$tsv"
floor=$(awk '/^# floor/ {print $3}' "$tsv")
[ -n "$floor" ] && [ "$(grep -vc '^#' "$tsv")" -ge 2 ] || {
	echo "plot_flows: no conntrack scale rows in $in" >&2
	exit 1
}
gnuplot <<GP
set terminal pngcairo size 800,420 font "DejaVu Sans,10" noenhanced
set output "$out"
set title "established packet: ns above XDP_TX against concurrent flows"
set logscale x
set xlabel "concurrent flows (random order)"
set ylabel "ns above XDP_TX"
set grid
set key top left
set yrange [0:*]
plot "$tsv" using 1:2 with linespoints lw 2 pt 7 title "maglb, established", \\
     $floor with lines dt 2 lw 2 title "cache-miss floor (1M random reads, map of 2M entries)", \\
     $floor * 1.2 with lines dt 3 title "1.2 x floor (issue 18 target at 1M)"
GP
echo "plot_flows: $out"
