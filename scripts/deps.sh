#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# deps.sh - install the Debian 12 packages maglb builds and tests with, only
# those missing. Safe to run again; needs root.
set -euo pipefail

PKGS=(
	make gcc clang llvm pkg-config		# toolchain (clang: BPF target)
	libclang-rt-14-dev			# libFuzzer for the parser fuzz test
	libbpf-dev libelf-dev zlib1g-dev	# libbpf and what it links
	linux-libc-dev				# UAPI headers the BPF programs build on
	libyaml-dev				# config parser
	libcurl4-openssl-dev			# health checks, Kubernetes API client
	libjson-c-dev				# Kubernetes API objects
	libmicrohttpd-dev			# Prometheus metrics endpoint
	bpftool					# skeletons, map dumps
	iproute2 ethtool procps util-linux	# namespaces, veth, nsenter
	nginx curl wrk				# real servers and clients for e2e
	chromium				# the real-browser cookie test
	coreutils				# sha256sum
	nftables bc python3			# loss injection, test helpers and SYN flood
	qemu-system-x86 busybox-static		# the kernel matrix (scripts/qemu)
)
# Node.js validates deploy/ offline (tests/deploy); any recent one will do.
command -v node >/dev/null && command -v npm >/dev/null || PKGS+=(nodejs npm)
# kubectl drives the test API server (tests/e2e/test_kubectl.sh): Debian's
# kubernetes-client (1.20), unless a kubectl is there already (another
# package's /usr/bin/kubectl would conflict with it).
command -v kubectl >/dev/null || PKGS+=(kubernetes-client)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The distribution's nginx service is not ours: never leave it on port 80.
if command -v systemctl >/dev/null && systemctl is-active -q nginx 2>/dev/null; then
	systemctl stop nginx || true
fi
