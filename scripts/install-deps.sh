#!/usr/bin/env bash
# Installs every Debian package mbox needs to build, test and run its lab, skipping
# what is already there. Debian 12, as root. Safe to run again.
set -euo pipefail

packages=(
  # build
  build-essential g++ meson ninja-build pkg-config
  libdpdk-dev dpdk libipsec-mb-dev libssl-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libfmt-dev libcli11-dev libedit-dev
  # lab and tests: namespaces, traffic, captures, peers
  iproute2 iputils-ping ethtool tcpdump tshark python3 python3-scapy nftables procps openssl
  # strongSwan peers (tests/integration/swan.sh): the openssl and gcm plugins are in
  # libstrongswan-standard-plugins; strongswan-pki makes the test certificates.
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins strongswan-pki
  # fuzzing (scripts/fuzz.sh)
  libfuzzer-14-dev libclang-rt-14-dev clang-14
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer for it.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all ${#packages[@]} packages present"
