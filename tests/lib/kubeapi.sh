# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# kubeapi.sh - what a test needs to talk to the test API server
# (tests/kube/apiserver.py) as a cluster client would: a CA and a server
# certificate for 127.0.0.1, and a kubeconfig with a bearer token.

# kubeapi_certs DIR: DIR/ca.crt, DIR/server.crt and DIR/server.key (EC
# P-256, one day). The address is a subjectAltName: Go clients (kubectl,
# client-go) no longer accept the Common Name alone.
kubeapi_certs() {
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.crt" -days 1 -subj "/CN=test-ca" 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=kube-apiserver" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' > "$d/san.ext" &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -days 1 -extfile "$d/san.ext" -out "$d/server.crt" 2>/dev/null
}

# kubeapi_kubeconfig DIR SERVER TOKEN: DIR/kubeconfig, one context naming
# SERVER (https://127.0.0.1:PORT), trusting DIR/ca.crt, with TOKEN.
kubeapi_kubeconfig() {
	local d=$1 server=$2 token=$3
	cat > "$d/kubeconfig" <<EOC
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 < "$d/ca.crt")
contexts:
- name: test
  context: {cluster: test, user: maglb}
users:
- name: maglb
  user:
    token: $token
EOC
}

# kubeapi_seed_cleanup: the seed workshop's clean-up step, its kubectl
# lines verbatim (kubectl and its kubeconfig as the caller has set them).
kubeapi_seed_cleanup() {
	kubectl delete ServiceAccount backend &&
	kubectl delete service backend &&
	kubectl delete deployment backend &&
	kubectl delete gateway load-balancing-gateway &&
	kubectl delete BackendTrafficPolicy cookie-policy &&
	kubectl delete HTTPRoute cookie-route
}
