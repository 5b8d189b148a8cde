#!/usr/bin/env bash
# Makes a throwaway PKI for TLS tests with the openssl CLI, in OUTDIR (created if needed):
#   ca.pem / ca.key             the test CA (trust this one with `tls.ca_file` / --ca-file)
#   server.pem / server.key     signed by the CA, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   wrong-host.pem / .key       signed by the CA, SAN DNS:wrong.example only (hostname mismatch)
#   other-ca.pem                an unrelated CA (trusting it = "unknown CA" for server.pem)
#   untrusted.pem / .key        SAN localhost/127.0.0.1, signed by other-ca (unknown issuer)
# Usage: make-test-ca.sh OUTDIR. Keys are EC P-256 (fast); certificates valid for 2 days.
set -euo pipefail
out=${1:?usage: make-test-ca.sh OUTDIR}
mkdir -p "$out"
cd "$out"

make_ca() {  # name subject
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
}

make_leaf() {  # name ca san
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" \
    > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

make_ca ca "Edgeward Test CA"
make_ca other-ca "Edgeward Other Test CA"
make_leaf server ca "DNS:localhost,IP:127.0.0.1,IP:::1"
make_leaf wrong-host ca "DNS:wrong.example"
make_leaf untrusted other-ca "DNS:localhost,IP:127.0.0.1"
rm -f ./*.srl other-ca.key
