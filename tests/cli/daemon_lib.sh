# daemon_lib.sh - sourced by the CLI's daemon tests (cli_daemon.sh, cli_walkthrough.sh,
# cli_flood.sh): a scratch directory removed at exit, PEERGRAPH_SOCKET pointing into it, a
# record type T, daemon_start, which runs $PEERGRAPHD there and waits (10 s) until
# `peergraph stats` answers, the checks fail and want, and $daemons: more daemons a test
# started itself, stopped at exit too.
# shellcheck shell=sh
tmp=$(mktemp -d) || exit 1
daemon=
daemons=
stop() {
	for p in $daemon $daemons; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 1' INT TERM
unset NOTIFY_SOCKET
PEERGRAPH_SOCKET=$tmp/sock
export PEERGRAPH_SOCKET
# shellcheck disable=SC2034 # used by the scripts that source this one
T=1b4e28ba-2fa1-11d2-883f-0016d3cca427
# shellcheck disable=SC2034
failures=0

daemon_start() {
	# a port of its own: daemons of one user would share the default one (SO_REUSEPORT)
	"$PEERGRAPHD" --state-dir "$tmp/state" --socket "$tmp/sock" \
		--set dataplane.address=127.0.0.1:0 >>"$tmp/log" 2>&1 &
	daemon=$!
	i=0
	until "$PEERGRAPH" stats >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$daemon" 2>/dev/null; then
			echo "peergraphd did not come up in 10 s:"
			cat "$tmp/log"
			exit 1
		fi
		sleep 0.1
	done
}

fail() {
	failures=$((failures + 1))
	printf 'FAIL: %s\n' "$*"
}

# want WHAT GOT EXPECTED
want() {
	[ "$2" = "$3" ] || fail "$1: got '$2', wanted '$3'"
}
