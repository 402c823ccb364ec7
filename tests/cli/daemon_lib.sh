# daemon_lib.sh - sourced by the CLI's daemon tests (cli_daemon.sh, cli_walkthrough.sh,
# cli_flood.sh, cli_signed.sh): a scratch directory removed at exit, PEERGRAPH_SOCKET pointing into it, a
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

# ---- several nodes (cli_flood.sh, cli_signed.sh): node N lives in $tmp/nN ----

# pg N ARGS...: the tool against node N, JSON out, errors to $tmp/stderr.
pg() {
	n=$1
	shift
	"$PEERGRAPH" --socket "$tmp/n$n/sock" --json "$@" </dev/null 2>>"$tmp/stderr"
}

# node_start N [--set K=V]...: a daemon with its dataplane on a free port of 127.0.0.1; its
# address in $addrN (read from its log), its pid in $pidN.
node_start() {
	nn=$1
	shift
	mkdir -p "$tmp/n$nn"
	"$PEERGRAPHD" --state-dir "$tmp/n$nn/state" --socket "$tmp/n$nn/sock" \
		--set dataplane.address=127.0.0.1:0 --set "dataplane.node_id=node$nn" "$@" \
		>>"$tmp/n$nn/log" 2>&1 &
	pid=$!
	daemons="$daemons $pid"
	eval "pid$nn=\$pid"
	i=0
	until "$PEERGRAPH" --socket "$tmp/n$nn/sock" stats >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "node $nn: peergraphd did not come up in 10 s:"
			cat "$tmp/n$nn/log"
			exit 1
		fi
		sleep 0.1
	done
	# "dataplane: 1 worker, 127.0.0.1:PORT, backend ..." (main.c's node_log)
	a=$(sed -n 's/.*dataplane: [0-9]* workers*, \(127\.0\.0\.1:[0-9][0-9]*\),.*/\1/p' \
		"$tmp/n$nn/log" | tail -n 1)
	case $a in
	127.0.0.1:[1-9]*) ;;
	*)
		echo "node $nn: no dataplane address in its log:"
		cat "$tmp/n$nn/log"
		exit 1
		;;
	esac
	eval "addr$nn=\$a"
}

# until_eq SECONDS WHAT WANT COMMAND...: polls COMMAND's output until it is WANT.
until_eq() {
	secs=$1 what=$2 wanted=$3
	shift 3
	i=0
	while :; do
		got=$("$@")
		[ "$got" = "$wanted" ] && return 0
		i=$((i + 1))
		if [ $i -gt $((secs * 10)) ]; then
			fail "$what: got '$got' after $secs s, wanted '$wanted'"
			return 1
		fi
		sleep 0.1
	done
}

# records_of N: graph "lab"'s record count on node N.
records_of() {
	pg "$1" graph status lab | jq .records
}

# digest N: the sorted ids, creators and versions of node N's records of graph "lab".
digest() {
	pg "$1" record list lab | jq -r '[.id, .creator, .version] | @tsv' | sort | sha256sum |
		cut -d' ' -f1
}
