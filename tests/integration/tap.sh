# TAP output for the shell integration tests: source it, then call ok / not_ok / check,
# and print "1..$n" at the end. `failed` counts the failures.
n=0 failed=0

# Namespaces need root: without it the test says it skipped and stops here.
if [[ $(id -u) -ne 0 ]]; then
  echo "1..0 # SKIP needs root for network namespaces"
  exit 0
fi

ok() { n=$((n + 1)); echo "ok $n - $1"; }

# not_ok DESCRIPTION [DETAIL...]: each detail (multi-line allowed) becomes "# " lines.
not_ok() {
  n=$((n + 1)) failed=$((failed + 1))
  echo "not ok $n - $1"
  shift
  local line
  for line in "$@"; do echo "# ${line//$'\n'/$'\n'# }"; done
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds; its output is shown otherwise.
check() {
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "command: $*" "$out"; fi
}
