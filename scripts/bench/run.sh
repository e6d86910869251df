#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# run.sh - `make bench`: per-packet cost, Maglev build and apply times, and
# the end-to-end comparison, as tables; plus build/bench/e2e.png (gnuplot).
# As root, after the README's set-up. Timings vary with the machine: the
# figures that matter are the ratios within one run.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
command -v gnuplot >/dev/null || {
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
}
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
build/bench/bench_pkt "${PKT_ITER:-100000}" | tee build/bench/pkt.txt
scripts/bench/plot_flows.sh build/bench/pkt.txt build/bench/flows.png
echo
build/bench/bench_maglev
echo
build/bench/bench_replay
echo
build/bench/bench_control "${CT_CONNS:-100000}"
echo
scripts/bench/e2e.sh
gnuplot <<GP
set terminal pngcairo size 900,480 font "DejaVu Sans,10"
set output "build/bench/e2e.png"
set title "wrk through each option to 10 nginx pods (req/s, higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top right
set ylabel "requests/s"
set xtics rotate by -20
set grid ytics
set yrange [0:*]
set key autotitle columnhead
plot "build/bench/e2e.tsv" using 2:xtic(1) title "keep-alive", '' using 3 title "Connection: close"
GP
echo
echo "charts: build/bench/e2e.png and build/bench/flows.png (copy them to docs/perf-e2e.png and docs/perf-flows.png for docs/performance.md)"
