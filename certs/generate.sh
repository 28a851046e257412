#!/usr/bin/env bash
# Generates the project's test PKI (committed with this script): a test CA, a server certificate
# for foo.test.google.fr (the upstream interop --server_host_override name), *.test.google.fr,
# localhost, 127.0.0.1 and ::1, and a client certificate for mTLS. Test use only: the private
# keys are public. Valid for 10000 days. Run it again to replace everything.
set -euo pipefail
cd "$(dirname "$0")"
days=10000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days "$days" \
  -subj "/O=grpc-interop-matrix/CN=grpc-interop-matrix test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

issue() { # name subject extensions
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$tmp/$1.csr" -subj "$2"
  printf '%s\n' "$3" > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" \
    -extfile "$tmp/$1.ext" -out "$1.pem"
}

issue server "/O=grpc-interop-matrix/CN=foo.test.google.fr" \
"basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:foo.test.google.fr,DNS:*.test.google.fr,DNS:localhost,IP:127.0.0.1,IP:::1"

issue client "/O=grpc-interop-matrix/CN=testclient" \
"basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

rm -f ca.srl
chmod 644 ./*.key
openssl verify -CAfile ca.pem server.pem client.pem
