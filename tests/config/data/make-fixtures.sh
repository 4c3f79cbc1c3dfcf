#!/bin/sh
# Remakes the PEM fixtures of tests/config/data (see README.md). Run from this directory.
set -eu
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca.key
openssl req -x509 -new -key ca.key -days 36500 -subj "/CN=mbox test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out gw1.key
openssl req -new -key gw1.key -subj "/C=SG/O=Example/CN=gw1" -out gw1.csr
printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:gw1.example.com\n' > gw1.ext
openssl x509 -req -in gw1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 36500 -extfile gw1.ext -out gw1.pem
rm -f gw1.csr gw1.ext ca.srl
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key
openssl pkey -in gw1.key -aes256 -passout pass:fixture -out gw1-encrypted.key
echo "this is not a PEM file" > not-pem.txt
