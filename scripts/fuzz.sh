#!/usr/bin/env bash
# Builds and runs one libFuzzer harness: scripts/fuzz.sh HARNESS [SECONDS]
#
# tests/fuzz/HARNESS_fuzz.cpp is compiled with clang++-14 (-fsanitize=fuzzer,address,
# undefined) together with the sources listed for it below, into build-fuzz/, then run
# for SECONDS (default 20) over tests/fuzz/corpus/HARNESS/ (the committed seeds, read
# only) and build-fuzz/corpus/HARNESS/ (what the fuzzer finds, kept between runs).
# Crashing inputs land in build-fuzz/artifacts/HARNESS/. Prints TAP for meson.
set -uo pipefail

harness=${1:?usage: fuzz.sh HARNESS [SECONDS]}
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

# The sources each harness links, beside its own file. Add a line per new harness. (The
# IKEv1 engine needs some of the IKEv2 engine's: describe_nets lives with IKE_AUTH.)
declare -A sources=(
  [ike_codec]="control/ike/codec/message.cpp"
  [ike1_codec]="control/ike1/codec/message.cpp"
  [ike_responder]="control/ike/codec/message.cpp control/ike/dh_pool.cpp control/ike/engine.cpp
    control/ike/engine_support.cpp control/ike/exchange_create_child_sa.cpp
    control/ike/exchange_ike_auth.cpp control/ike/exchange_ike_sa_init.cpp control/ike/exchange_informational.cpp
    control/ike/proposal.cpp control/ike/protection.cpp control/ike/traffic_selectors.cpp control/ike/types.cpp
    crypto/ike_dh.cpp crypto/ike_hash.cpp crypto/ike_identity.cpp crypto/ike_prf.cpp crypto/ike_signature.cpp
    crypto/ike_sk.cpp config/ipv4.cpp"
  [ike1_responder]="control/ike1/codec/message.cpp control/ike1/engine.cpp control/ike1/exchange_aggressive_mode.cpp
    control/ike1/exchange_informational.cpp control/ike1/exchange_main_mode.cpp control/ike1/exchange_quick_mode.cpp
    control/ike1/nat_traversal.cpp
    control/ike1/proposal.cpp control/ike/codec/message.cpp control/ike/dh_pool.cpp control/ike/engine.cpp
    control/ike/engine_support.cpp control/ike/exchange_create_child_sa.cpp control/ike/exchange_ike_auth.cpp
    control/ike/exchange_ike_sa_init.cpp control/ike/exchange_informational.cpp control/ike/proposal.cpp
    control/ike/protection.cpp control/ike/traffic_selectors.cpp control/ike/types.cpp crypto/ike1_cipher.cpp
    crypto/ike1_kdf.cpp crypto/ike_dh.cpp crypto/ike_hash.cpp crypto/ike_identity.cpp crypto/ike_prf.cpp
    crypto/ike_signature.cpp crypto/ike_sk.cpp config/ipv4.cpp"
)
# Libraries each harness links (none for the codec).
declare -A libraries=(
  [ike_responder]="-lcrypto -lfmt"
  [ike1_responder]="-lcrypto -lfmt"
)

echo "1..1"
not_ok() {
  echo "not ok 1 - $harness fuzz: $1"
  [[ -n ${2:-} ]] && sed 's/^/# /' <<<"$2"
  exit 1
}

[[ -n ${sources[$harness]+x} ]] || not_ok "unknown harness (known: ${!sources[*]})"
command -v clang++-14 >/dev/null || not_ok "clang++-14 missing (scripts/install-deps.sh installs it)"

out=build-fuzz
binary=$out/${harness}_fuzz
mkdir -p "$out/corpus/$harness" "$out/artifacts/$harness"
# shellcheck disable=SC2086
if ! build_log=$(clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I. -o "$binary" \
    "tests/fuzz/${harness}_fuzz.cpp" ${sources[$harness]} ${libraries[$harness]:-} 2>&1); then
  not_ok "build failed" "$build_log"
fi

log=$out/$harness.log
"$binary" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/$harness/" \
  "$out/corpus/$harness" "tests/fuzz/corpus/$harness" >"$log" 2>&1
status=$?
runs=$(grep -oE 'number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+' | tail -1)
if ((status != 0)); then
  not_ok "crashed (exit $status) after ${runs:-?} runs; inputs in $out/artifacts/$harness/" "$(tail -40 "$log")"
fi
echo "ok 1 - $harness fuzz: ${runs:-0} runs, 0 crashes"
