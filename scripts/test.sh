#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root):
#   installs what is missing, builds build/ (release-like) and build-asan/
#   (AddressSanitizer + UndefinedBehaviorSanitizer), runs every test in build/ and the
#   unit tests in build-asan/, and ends with the totals alone on a line:
#   "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || exit 1
scripts/build.sh build || exit 1
scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || exit 1

# DPDK keeps its allocations until rte_eal_cleanup and some of its libraries never free
# theirs: LeakSanitizer would report those, not ours. ASan and UBSan stay fatal.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

meson test -C build --print-errorlogs --no-rebuild
meson test -C build-asan --suite unit --print-errorlogs --no-rebuild

# Count test cases (GoogleTest cases and TAP points, as meson records them in JUnit).
python3 - build/meson-logs/testlog.junit.xml build-asan/meson-logs/testlog.junit.xml <<'PY'
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"test.sh: cannot read {path}: {e}")
        failed += 1
        continue
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print()
print(line)
sys.exit(1 if failed or passed == 0 else 0)
PY
