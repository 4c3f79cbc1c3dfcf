# strongSwan peers for mbox's interop tests, benchmarks and demo: charon daemons in
# network namespaces, each with a private /run, its own strongswan.conf and swanctl
# directory, driven by swanctl over its own vici socket. Source this file (bash).
#
#   swan_init PREFIX                  per-run name prefix and temp dir ($SWAN_RUN); chains
#                                     swan_cleanup into the EXIT trap (also call it from yours)
#   swan_netns NS / swan_veth ...     namespaces and veth pairs that swan_cleanup removes
#   swan_lab_up                       hostA -- swanA ==== swanB -- hostB (see below)
#   swan_start NS NAME                charon NAME in namespace NS; waits for its vici socket
#   swan_load NS NAME CONF [SECRETS]  writes swanctl.conf (+ secrets) and runs --load-all
#   swan_initiate NS NAME CHILD [IKE [TIMEOUT]] / swan_terminate NS NAME IKE /
#   swan_terminate_child NS NAME CHILD
#   swan_list_sas NS NAME             `swanctl --list-sas --raw`; swan_sas_json: as JSON
#   swan_child_field NS NAME CHILD FIELD, swan_ike_field NS NAME IKE FIELD,
#   swan_child_count NS NAME [STATE]  fields of the SAs, for assertions
#   swan_wait_child NS NAME CHILD [STATE [TIMEOUT]]   e.g. the responder's side
#   swan_pki DIR NAME=IP...           a CA and an RSA certificate per gateway (DN + IP SAN)
#   swan_pki_install NAME CERT        the CA, CERT's certificate and key into NAME's swanctl dir
#   swan_stop NS NAME / swan_cleanup  stop one daemon / everything swan.sh made
#   swan_ctl NAME ARGS...             any swanctl command against daemon NAME
#   swan_dump NAME                    its log, as TAP comment lines (for failures)
#   $SWAN_START_MS[NAME]              how long NAME took to start (until vici answered)
#
# State lives in shell variables (SWAN_PID, SWAN_NETNS): call swan_init, swan_start and
# swan_stop in the main shell, not in $(...) or a pipeline. Every other function may
# run anywhere.
#
# Example (PSK, the defaults of swan_lab_up):
#   source tests/integration/swan.sh
#   swan_init "swt$$"; swan_lab_up
#   swan_start "$SWAN_NS_GA" swanA && swan_load "$SWAN_NS_GA" swanA "$(cat a.conf)"
#   swan_initiate "$SWAN_NS_GA" swanA net && swan_child_field "$SWAN_NS_GA" swanA net state
#
# Quirks of strongSwan 5.9.8 (Debian 12) on a machine without kernel ESP:
# * Plugins. Debian splits them: `openssl` and `gcm` (and aesni, agent) are in
#   libstrongswan-standard-plugins, which strongswan-charon does not pull in; without
#   openssl there is no ECP DH (groups 19-21) and no AES-GCM here. `pki` comes from
#   strongswan-pki. scripts/install-deps.sh installs both.
# * Minimal plugin set (SWAN_PLUGINS), found by dropping one plugin at a time from a
#   larger list and running swan_selftest.sh:
#     nonce openssl kdf socket-default vici kernel-libipsec kernel-netlink   (PSK)
#     + pem                                                            (RSA certificates)
#   nonce: charon does not start without it. openssl: every primitive (AES, SHA, HMAC,
#   MODP and ECP DH, RSA, X.509 and PKCS#1/#8 parsing, the RNG). kdf: without it the
#   keys cannot be derived after IKE_SA_INIT ("KDF_PRF with PRF_HMAC_SHA1 not
#   supported", "key derivation failed"). pem: swanctl hands charon the files as they are (PEM), charon
#   decodes them. socket-default, vici, kernel-netlink: charon does not start without
#   them. Not needed (tests pass without each): random (openssl's RNG serves), pkcs1,
#   pkcs8, pubkey, x509 (openssl parses keys and certificates), constraints,
#   revocation (no CRL/OCSP here), updown (no script), resolve (it would rewrite
#   /etc/resolv.conf), hmac/sha1/sha2/aes/gmp (openssl has them), and even gcm
#   (aes256gcm16 IKE and ESP with ecp256 work on openssl's GCM alone). The default list
#   still loads gcm and random: cheap, and the same as a stock charon.
# * kernel-libipsec is userspace ESP: charon reads/writes inner packets on a TUN device
#   (ipsec0, MTU 1400) and sends ESP itself over its IKE sockets. It must come before
#   kernel-netlink in the load list: the other way round charon uses kernel-netlink's
#   XFRM backend, negotiates without UDP encapsulation, and installing the CHILD_SA
#   fails ("failed to establish CHILD_SA, keeping IKE_SA": no ESP in this kernel).
#   kernel-netlink is still required: addresses, routes, the interface list.
# * ESP is always UDP-encapsulated on port 4500: libipsec cannot receive raw ESP
#   (protocol 50), so charon reports KERNEL_REQUIRE_UDP_ENCAPSULATION and fakes a NAT
#   in its NAT_DETECTION_SOURCE_IP payload; each side logs "remote host is behind NAT"
#   (list-sas: nat-remote=yes nat-any=yes) and both float to 4500 from IKE_AUTH on. An mbox peer must accept
#   ESP-in-UDP even without a real NAT, and must answer IKE on 4500.
# * Routes: with install_routes=yes (needed here, libipsec has no policy-based
#   capture) charon puts a route "REMOTE_TS dev ipsec0 src LOCAL_ADDR" in table 220
#   (rule priority 220). Inner traffic only reaches the tunnel if it is routed there, so
#   the gateway must forward (net.ipv4.ip_forward=1) and the LAN hosts must route the
#   remote subnet via the gateway. src is a local address inside local_ts (the LAN
#   address), so the gateway can ping through the tunnel itself. Host-to-host (remote_ts = the peer's IKE
#   address) is not routed unless plugins.kernel-libipsec.allow_peer_ts=yes, per the
#   plugin's documentation: that route would capture the IKE packets too (untested).
# * Each CHILD_SA's route needs a src: a local address inside its local_ts. Without
#   one, or when another CHILD_SA already routes the same destination (two tunnels
#   with the same remote_ts), the CHILD_SA fails: "error installing route with policy
#   ... out", "unable to install IPsec policies (SPD) in kernel", "failed to establish
#   CHILD_SA, keeping IKE_SA" (the IKE_SA stays up). Many tunnels need distinct subnets
#   on both sides and an address in each (see bench/ike_rate_swan.sh).
# * Terminating (or stopping charon) removes the route, the SAs, and with the daemon the
#   TUN device; traffic then takes the main table (no route: "network unreachable").
# * One daemon per namespace, each with a private /run: charon writes /run/charon.pid
#   and refuses to start when that pid is alive. `ip netns exec` already enters a new
#   mount namespace (it remounts /sys), and we add `unshare -m` and bind a private
#   directory ($SWAN_RUN/NAME/run) over /run. The vici socket is put at
#   $SWAN_RUN/NAME/charon.vici, a filesystem path reachable from any namespace, so
#   swanctl runs from the caller's namespace (NS is checked, not entered).
# * swanctl reads STRONGSWAN_CONF (for its own plugin list: without swanctl.load it
#   tries a dozen plugins Debian lacks and prints an error for each) and SWANCTL_DIR
#   (swanctl.conf, x509/, x509ca/, private/ ...): both are set per daemon by swan_ctl.
# * Retransmissions: the defaults (timeout 4 s, base 1.8, 5 tries) make a failing
#   test hang 165 s (4 * (1 + 1.8 + ... + 1.8^5)). Tests use retransmit_timeout=1,
#   base=1.4, tries=2: charon gives up after 1 + 1.4 + 1.96 = 4.4 s. SWAN_CHARON_OPTS
#   replaces these lines of the charon section (a benchmark wants the defaults back).
# * DoS protection: charon blocks a peer IP with more than 5 half-open IKE_SAs
#   (block_threshold) and demands cookies above 30 (cookie_threshold) / 3 per IP
#   (cookie_threshold_ip). Many parallel initiations from one address need these raised.
# * IKE_SA uniqueness: with unique=no (the default) an INITIAL_CONTACT from the peer
#   still deletes older IKE_SAs with the same identities; parallel tunnels between the
#   same identities want unique=never on the responder.
# * IKEv1 aggressive mode with a PSK: charon refuses to answer it unless told it may
#   (its HASH_R lets the initiator guess the key offline); the interop tests need it,
#   so every test daemon allows it. It changes nothing for main mode or IKEv2.
# * charon logs through filelog to $SWAN_RUN/NAME/charon.log (ike 2, cfg 2, knl 1,
#   net 1, others 1; SWAN_LOG overrides); stdout/stderr go to charon.out.

SWAN_CHARON=${SWAN_CHARON:-/usr/lib/ipsec/charon}
SWAN_PLUGINS=${SWAN_PLUGINS:-random nonce openssl kdf gcm pem socket-default vici kernel-libipsec kernel-netlink}
SWAN_LOG=${SWAN_LOG:-default = 1
      ike = 2
      cfg = 2
      knl = 1
      net = 1}
SWAN_CHARON_OPTS=${SWAN_CHARON_OPTS:-retransmit_tries = 2
  retransmit_timeout = 1.0
  retransmit_base = 1.4}

swan_init() {  # swan_init PREFIX: names and the temp dir of this run
  SWAN_PREFIX=$1
  SWAN_RUN=$(mktemp -d "/tmp/${SWAN_PREFIX}-swan.XXXXXX")
  declare -gA SWAN_PID=() SWAN_NETNS=() SWAN_START_MS=()
  SWAN_OWN_NS=()
  # Run swan_cleanup first on exit, then whatever EXIT trap was there (a test's finish
  # that calls `exit` would otherwise skip it). A trap set later replaces this one:
  # call swan_cleanup from it (it is idempotent).
  local prev=
  if [[ -n $(trap -p EXIT) ]]; then eval "set -- $(trap -p EXIT)"; prev=$3; fi
  trap "swan_cleanup; $prev" EXIT
}

_swan_need_init() { [[ -n ${SWAN_RUN:-} ]] || swan_init "swan$$"; }

swan_now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

swan_netns() {  # swan_netns NS: a namespace with lo up and no IPv6, removed by swan_cleanup
  _swan_need_init
  ip netns add "$1" || return 1
  SWAN_OWN_NS+=("$1")
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

swan_veth() {  # swan_veth NS1 IFACE1 NS2 IFACE2: a veth pair, both ends up, offloads off
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
  ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1 || true
  ip netns exec "$3" ethtool -K "$4" tx off rx off >/dev/null 2>&1 || true
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
}

# swan_lab_up: four namespaces, names in SWAN_NS_HA SWAN_NS_GA SWAN_NS_GB SWAN_NS_HB:
#
#   hostA eth0 10.1.0.2/24 -- lan0 [swanA 10.1.0.1 | 198.51.100.1] wan0 ==
#      == wan0 [swanB 198.51.100.2 | 10.2.0.1] lan0 -- eth0 10.2.0.2/24 hostB
#
# The gateways forward; the hosts' default routes point at them. swanA or swanB can be
# replaced by mboxd (the namespace is just a router until a charon runs in it).
swan_lab_up() {
  _swan_need_init
  SWAN_NS_HA=$SWAN_PREFIX-ha SWAN_NS_GA=$SWAN_PREFIX-ga SWAN_NS_GB=$SWAN_PREFIX-gb SWAN_NS_HB=$SWAN_PREFIX-hb
  local ns
  for ns in "$SWAN_NS_HA" "$SWAN_NS_GA" "$SWAN_NS_GB" "$SWAN_NS_HB"; do swan_netns "$ns" || return 1; done
  swan_veth "$SWAN_NS_HA" eth0 "$SWAN_NS_GA" lan0 &&
  swan_veth "$SWAN_NS_GA" wan0 "$SWAN_NS_GB" wan0 &&
  swan_veth "$SWAN_NS_HB" eth0 "$SWAN_NS_GB" lan0 || return 1
  ip -n "$SWAN_NS_HA" addr add 10.1.0.2/24 dev eth0
  ip -n "$SWAN_NS_HA" route add default via 10.1.0.1
  ip -n "$SWAN_NS_GA" addr add 10.1.0.1/24 dev lan0
  ip -n "$SWAN_NS_GA" addr add 198.51.100.1/24 dev wan0
  ip -n "$SWAN_NS_GB" addr add 198.51.100.2/24 dev wan0
  ip -n "$SWAN_NS_GB" addr add 10.2.0.1/24 dev lan0
  ip -n "$SWAN_NS_HB" addr add 10.2.0.2/24 dev eth0
  ip -n "$SWAN_NS_HB" route add default via 10.2.0.1
  ip netns exec "$SWAN_NS_GA" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$SWAN_NS_GB" sysctl -qw net.ipv4.ip_forward=1
}

swan_dir() { echo "$SWAN_RUN/$1"; }
swan_vici() { echo "unix://$SWAN_RUN/$1/charon.vici"; }
swan_logfile() { echo "$SWAN_RUN/$1/charon.log"; }

_swan_write_conf() {  # NAME: strongswan.conf for the daemon and for its swanctl
  local dir=$SWAN_RUN/$1
  cat >"$dir/strongswan.conf" <<CONF
# generated by swan.sh for $1 (no include of /etc/strongswan.d: nothing implicit)
charon {
  load_modular = no
  load = $SWAN_PLUGINS
  install_routes = yes
  install_virtual_ip = no
  i_dont_care_about_security_and_use_aggressive_mode_psk = yes
  $SWAN_CHARON_OPTS
  filelog {
    charon {
      path = $dir/charon.log
      time_format = %H:%M:%S
      ike_name = yes
      append = no
      flush_line = yes
      $SWAN_LOG
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
  plugins {
    vici {
      socket = unix://$dir/charon.vici
    }
  }
}
swanctl {
  load = pem pkcs1 pkcs8 x509 pubkey openssl random
}
CONF
}

_swan_check() {  # NS NAME: NAME is a daemon swan_start started in NS
  if [[ -z ${SWAN_RUN:-} || -z ${SWAN_NETNS[$2]:-} ]]; then echo "swan: no daemon $2" >&2; return 2; fi
  if [[ ${SWAN_NETNS[$2]} != "$1" ]]; then echo "swan: $2 runs in ${SWAN_NETNS[$2]}, not $1" >&2; return 2; fi
}

swan_ctl() {  # swan_ctl NAME SWANCTL_ARGS...: swanctl against daemon NAME
  local dir=$SWAN_RUN/$1
  shift
  STRONGSWAN_CONF=$dir/strongswan.conf SWANCTL_DIR=$dir/swanctl swanctl "$@" --uri "unix://$dir/charon.vici"
}

swan_start() {  # swan_start NS NAME: start charon NAME in NS, wait (10 s at most) for vici
  local ns=$1 name=$2
  _swan_need_init
  if [[ -n ${SWAN_PID[$name]:-} ]]; then echo "swan: $name already started" >&2; return 2; fi
  local dir=$SWAN_RUN/$name d
  mkdir -p "$dir/run"
  for d in conf.d x509 x509ca x509aa x509ocsp x509crl x509ac pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
    mkdir -p "$dir/swanctl/$d"
  done
  _swan_write_conf "$name"
  local t0
  t0=$(swan_now_ms)
  # The private /run: charon.pid (and anything else charon puts there) stays in $dir/run.
  STRONGSWAN_CONF=$dir/strongswan.conf ip netns exec "$ns" \
    unshare -m --propagation private sh -c 'mount --bind "$1" /run && exec "$2"' swan "$dir/run" "$SWAN_CHARON" \
    >"$dir/charon.out" 2>&1 </dev/null &
  local pid=$!
  SWAN_PID[$name]=$pid SWAN_NETNS[$name]=$ns
  local i
  for i in $(seq 1 200); do
    if [[ -S $dir/charon.vici ]] && swan_ctl "$name" --stats >/dev/null 2>&1; then
      SWAN_START_MS[$name]=$(($(swan_now_ms) - t0))
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "swan: charon $name exited during start-up:" >&2
      cat "$dir/charon.out" "$dir/charon.log" >&2 2>/dev/null
      unset "SWAN_PID[$name]"
      return 1
    fi
    sleep 0.05
  done
  echo "swan: charon $name did not answer on $dir/charon.vici within 10 s" >&2
  return 1
}

# swan_load NS NAME CONF_TEXT [SECRETS_TEXT]: CONF_TEXT becomes swanctl.conf (connections,
# and secrets too if you like); SECRETS_TEXT, if given, goes to conf.d/secrets.conf inside
# a "secrets { }" block. Certificates and keys: swan_pki_install. Prints swanctl's output.
swan_load() {
  _swan_check "$1" "$2" || return
  local dir=$SWAN_RUN/$2/swanctl
  { printf '%s\n' "$3"; echo 'include conf.d/*.conf'; } >"$dir/swanctl.conf"
  if [[ -n ${4:-} ]]; then
    printf 'secrets {\n%s\n}\n' "$4" >"$dir/conf.d/secrets.conf"
  else
    rm -f "$dir/conf.d/secrets.conf"
  fi
  swan_ctl "$2" --load-all --clear --noprompt
}

# swan_initiate NS NAME CHILD [IKE [TIMEOUT_S]]: initiate CHILD (and its IKE_SA), wait for
# the result (TIMEOUT_S, 15 by default); status 0 when established. Prints swanctl's log.
swan_initiate() {
  _swan_check "$1" "$2" || return
  local args=(--initiate --child "$3" --timeout "${5:-15}")
  [[ -n ${4:-} ]] && args+=(--ike "$4")
  swan_ctl "$2" "${args[@]}"
}

# swan_terminate NS NAME IKE [TIMEOUT_S]: delete the IKE_SA(s) of connection IKE (and
# their CHILD_SAs); swan_terminate_child NS NAME CHILD likewise for one CHILD_SA.
swan_terminate() {
  _swan_check "$1" "$2" || return
  swan_ctl "$2" --terminate --ike "$3" --timeout "${4:-10}"
}
swan_terminate_child() {
  _swan_check "$1" "$2" || return
  swan_ctl "$2" --terminate --child "$3" --timeout "${4:-10}"
}

swan_list_sas() {  # swan_list_sas NS NAME: raw vici dump, one IKE_SA per line
  _swan_check "$1" "$2" || return
  swan_ctl "$2" --list-sas --raw
}

# The raw dump ("list-sa event {conn {uniqueid=1 ... child-sas {net-1 {name=net ...}}}}")
# as JSON: a list of {"name": conn, ...fields, "child-sas": [{...}]}. Read from stdin.
_swan_sas_json() {
  /usr/bin/python3 -c '
import json, re, sys
# vici raw dump grammar: "name {", "}", "key=[a b]", "key=value". A value may hold
# spaces (a DN: "C=CH, O=mbox test, CN=x"): it ends where the next lowercase "key=",
# "name {" or "}" starts. Keys of the dump are lowercase; DN attributes are not.
TOKEN = re.compile(r"""\s*(?:(?P<close>\})|(?P<sect>[^\s{}=\[\]]+)\s*\{|(?P<lkey>[a-z][a-z0-9-]*)=\[(?P<list>[^\]]*)\]|(?P<key>[a-z][a-z0-9-]*)=(?P<val>.*?)(?=\s+[a-z][a-z0-9-]*=|\s+[^\s{}=\[\]]+\s*\{|\s*\}|\s*$))""")
def parse(s, i):
    d = {}
    while True:
        m = TOKEN.match(s, i)
        if not m or m.end() == i:
            return d, len(s)
        i = m.end()
        if m["close"]:
            return d, i
        if m["sect"]:
            d[m["sect"]], i = parse(s, i)
        elif m["lkey"]:
            d[m["lkey"]] = m["list"].split()
        else:
            d[m["key"]] = m["val"]
sas = []
for line in sys.stdin:
    line = line.strip()
    if line.startswith("list-sa event"):
        body = parse(line[len("list-sa event"):].strip()[1:], 0)[0]
        for name, ike in body.items():
            ike["name"] = name
            children = ike.get("child-sas", {})
            ike["child-sas"] = [dict(c, key=k) for k, c in children.items()] if isinstance(children, dict) else []
            sas.append(ike)
json.dump(sas, sys.stdout)
'
}

swan_sas_json() {  # swan_sas_json NS NAME: the SAs as JSON (see _swan_sas_json)
  swan_list_sas "$1" "$2" | _swan_sas_json
}

# swan_child_field NS NAME CHILD FIELD: FIELD of the first CHILD_SA named CHILD, e.g.
#   state (INSTALLED), spi-in, spi-out (hex), encap (yes), encr-alg (AES_CBC),
#   encr-keysize, integ-alg (HMAC_SHA1_96), bytes-in/out, packets-in/out, local-ts, remote-ts
# (lists print space-separated). Empty and status 1 when there is no such SA or field.
swan_child_field() {
  swan_sas_json "$1" "$2" | /usr/bin/python3 -c '
import json, sys
child, field = sys.argv[1:]
for ike in json.load(sys.stdin):
    for c in ike["child-sas"]:
        if c.get("name") == child and field in c:
            v = c[field]
            print(" ".join(v) if isinstance(v, list) else v)
            sys.exit(0)
sys.exit(1)' "$3" "$4"
}

# swan_ike_field NS NAME IKE FIELD: FIELD of the first IKE_SA of connection IKE, e.g.
#   state (ESTABLISHED), initiator-spi, responder-spi, local-host, remote-host,
#   local-port, remote-port (4500 after the NAT float), nat-remote/nat-local/nat-fake,
#   encr-alg, integ-alg, prf-alg, dh-group (MODP_2048), local-id, remote-id
swan_ike_field() {
  swan_sas_json "$1" "$2" | /usr/bin/python3 -c '
import json, sys
name, field = sys.argv[1:]
for ike in json.load(sys.stdin):
    if ike["name"] == name and field in ike:
        v = ike[field]
        print(" ".join(v) if isinstance(v, list) else v)
        sys.exit(0)
sys.exit(1)' "$3" "$4"
}

swan_child_count() {  # swan_child_count NS NAME [STATE]: CHILD_SAs (in STATE, INSTALLED by default)
  swan_sas_json "$1" "$2" | /usr/bin/python3 -c '
import json, sys
print(sum(c.get("state") == sys.argv[1] for ike in json.load(sys.stdin) for c in ike["child-sas"]))' "${3:-INSTALLED}"
}

# swan_wait_child NS NAME CHILD [STATE [TIMEOUT_S]]: until CHILD_SA CHILD is in STATE
# (INSTALLED), e.g. on the responder after the initiator's swan_initiate returned.
swan_wait_child() {
  local i deadline=$(( $(swan_now_ms) + ${5:-10} * 1000 ))
  while (( $(swan_now_ms) < deadline )); do
    [[ $(swan_child_field "$1" "$2" "$3" state) == "${4:-INSTALLED}" ]] && return 0
    sleep 0.1
  done
  return 1
}

swan_stop() {  # swan_stop NS NAME: SIGTERM (charon removes its SAs, routes, TUN), KILL after 5 s
  _swan_check "$1" "$2" || return
  local pid=${SWAN_PID[$2]:-} i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "SWAN_PID[$2]" "SWAN_NETNS[$2]"   # NAME may be started again (same directory)
  return 0
}

# swan_cleanup: stops every charon, deletes every namespace swan.sh made and the temp dir
# (kept when SWAN_KEEP=1, for post-mortems). Safe to call twice.
swan_cleanup() {
  [[ -n ${SWAN_RUN:-} ]] || return 0
  local name ns
  for name in "${!SWAN_PID[@]}"; do swan_stop "${SWAN_NETNS[$name]}" "$name"; done
  for ns in "${SWAN_OWN_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  SWAN_OWN_NS=()
  if [[ ${SWAN_KEEP:-0} == 1 ]]; then
    echo "# swan: kept $SWAN_RUN" >&2
  else
    rm -rf "$SWAN_RUN"
  fi
  SWAN_RUN=
}

swan_dump() {  # swan_dump NAME [LINES]: the end of NAME's log as TAP comments
  local f
  for f in "$SWAN_RUN/$1/charon.out" "$SWAN_RUN/$1/charon.log"; do
    [[ -s $f ]] || continue
    echo "# $1: $f"
    tail -n "${2:-80}" "$f" | sed 's/^/#   /'
  done
}

# swan_pki DIR NAME=IP...: an RSA 2048 CA (DIR/ca.pem, ca.key) and per NAME a
# certificate DIR/NAME.pem with DN "C=CH, O=mbox test, CN=NAME" and subjectAltName
# IP:IP, key DIR/NAME.key. Uses strongSwan's `pki` when installed (SWAN_PKI_TOOL=openssl
# forces OpenSSL). Either id works in swanctl.conf: id = "C=CH, O=mbox test, CN=NAME"
# or id = IP.
swan_pki() {
  local dir=$1 spec name ip
  shift
  mkdir -p "$dir"
  local tool=${SWAN_PKI_TOOL:-}
  [[ -n $tool ]] || { command -v pki >/dev/null && tool=pki || tool=openssl; }
  if [[ $tool == pki ]]; then
    # pki reads strongswan.conf too: without pki.load it tries plugins Debian lacks and
    # prints an error line for each.
    printf 'pki {\n  load = random pem pkcs1 pkcs8 x509 pubkey openssl\n}\n' >"$dir/pki.conf"
    local -x STRONGSWAN_CONF=$dir/pki.conf
    pki --gen --type rsa --size 2048 --outform pem >"$dir/ca.key" &&
    pki --self --ca --lifetime 30 --in "$dir/ca.key" --type rsa \
      --dn "C=CH, O=mbox test, CN=mbox test CA" --outform pem >"$dir/ca.pem" || return 1
    for spec in "$@"; do
      name=${spec%%=*} ip=${spec#*=}
      pki --gen --type rsa --size 2048 --outform pem >"$dir/$name.key" &&
      pki --pub --in "$dir/$name.key" --type rsa |
        pki --issue --lifetime 30 --cacert "$dir/ca.pem" --cakey "$dir/ca.key" \
          --dn "C=CH, O=mbox test, CN=$name" --san "$ip" --flag serverAuth --flag clientAuth \
          --outform pem >"$dir/$name.pem" || return 1
    done
  else
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 30 \
      -subj "/C=CH/O=mbox test/CN=mbox test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      2>/dev/null || return 1
    for spec in "$@"; do
      name=${spec%%=*} ip=${spec#*=}
      openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -out "$dir/$name.csr" \
        -subj "/C=CH/O=mbox test/CN=$name" 2>/dev/null &&
      openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 30 -out "$dir/$name.pem" -extfile <(printf '%s\n' \
          "subjectAltName=IP:$ip" "basicConstraints=CA:FALSE" \
          "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth,clientAuth") \
        2>/dev/null || return 1
    done
  fi
}

# swan_pki_install NAME CERT [DIR]: DIR/ca.pem -> x509ca/, DIR/CERT.pem -> x509/,
# DIR/CERT.key -> private/ of daemon NAME (DIR: $SWAN_RUN/pki). In swanctl.conf:
#   local { auth = pubkey  certs = CERT.pem  id = ... }
swan_pki_install() {
  local d=$SWAN_RUN/$1/swanctl pki=${3:-$SWAN_RUN/pki}
  cp "$pki/ca.pem" "$d/x509ca/ca.pem" && cp "$pki/$2.pem" "$d/x509/$2.pem" && cp "$pki/$2.key" "$d/private/$2.key"
}
