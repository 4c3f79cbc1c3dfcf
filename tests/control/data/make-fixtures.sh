#!/bin/sh
# Remakes the certificates of the IKE engine tests (tests/control/ike_engine_test.cpp),
# issued by the CA of tests/config/data: gwa (198.51.100.1) and gwb (203.0.113.2),
# each with its address as subjectAltName, and "rogue", the same name as gwb but
# issued by a CA nobody trusts. Run from this directory.
set -eu
ca=../../config/data
issue() {  # NAME SUBJECT SAN CA_PEM CA_KEY
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf 'basicConstraints=CA:FALSE\nsubjectAltName=%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$4" -CAkey "$5" -CAcreateserial -days 36500 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext" ./*.srl "$ca"/*.srl
}
issue gwa "/C=SG/O=Example/CN=gwa" "IP:198.51.100.1" "$ca/ca.pem" "$ca/ca.key"
issue gwb "/C=SG/O=Example/CN=gwb" "IP:203.0.113.2" "$ca/ca.pem" "$ca/ca.key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rogue-ca.key 2>/dev/null
openssl req -x509 -new -key rogue-ca.key -days 36500 -subj "/CN=rogue CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out rogue-ca.pem
issue rogue "/C=SG/O=Example/CN=gwb" "IP:203.0.113.2" rogue-ca.pem rogue-ca.key
rm -f rogue-ca.key
