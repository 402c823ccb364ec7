# daemon_lib.sh - sourced by the CLI's daemon tests (cli_daemon.sh, cli_walkthrough.sh): a
# scratch directory removed at exit, PEERGRAPH_SOCKET pointing into it, a record type T, and
# daemon_start, which runs $PEERGRAPHD there and waits (10 s) until `peergraph stats` answers.
# shellcheck shell=sh
tmp=$(mktemp -d) || exit 1
daemon=
stop() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
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
