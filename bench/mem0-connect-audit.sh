#!/usr/bin/env bash
# Runs the mem0 bridge test (Node harness + the Python bridge + mem0ai) under strace and checks, at the system-call
# level, that no process connected or sent a datagram to an address outside loopback. Prints the addresses seen.
#
#   bash bench/mem0-connect-audit.sh            (needs strace: apt-get install strace; and bash scripts/setup-mem0.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v strace >/dev/null || { echo "mem0-connect-audit: strace is not installed (apt-get install strace)" >&2; exit 2; }
bash scripts/setup-mem0.sh --check || { echo "mem0-connect-audit: run bash scripts/setup-mem0.sh first" >&2; exit 2; }
log="$(mktemp)"; out="$(mktemp)"
trap 'rm -f "$log" "$out"' EXIT
if ! strace -f -qq -e trace=connect,sendto,sendmsg -o "$log" npx vitest run test/integration/eval.mem0.test.ts >"$out" 2>&1; then
  tail -30 "$out" >&2
  echo "mem0-connect-audit: the bridge test failed under strace" >&2
  exit 1
fi
grep -q 'Tests .*passed' "$out" && grep -E 'Tests ' "$out" | sed 's/\x1b\[[0-9;]*m//g'
# Every IPv4 / IPv6 destination in connect / sendto / sendmsg, with counts.
addrs="$(grep -oE 'inet_addr\("[^"]+"\)|inet_pton\(AF_INET6, "[^"]+"' "$log" | sed -E 's/.*"([^"]+)".*/\1/' | sort | uniq -c || true)"
echo "destinations (count address):"
echo "${addrs:-  none}"
bad="$(echo "$addrs" | awk 'NF==2 && $2 !~ /^127\./ && $2 != "::1" && $2 != "::ffff:127.0.0.1" {print $2}')"
if [ -n "$bad" ]; then
  echo "mem0-connect-audit: FAILED, connections outside loopback: $bad" >&2
  exit 1
fi
echo "mem0-connect-audit: every connection stayed on loopback"
