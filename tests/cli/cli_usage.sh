#!/bin/sh
# cli_usage.sh PEERGRAPH - the `peergraph` tool without a daemon: every manual page, every
# usage error, and the failure to reach a daemon that is not there.
#
# Each row: a number, the exit status wanted, a fragment its output must hold, and the
# arguments. Usage errors must exit 2 before anything is sent, so no row needs a daemon;
# --socket points at a path where none runs, so a row that wrongly got past its checks
# would exit 3 and fail. Standard input is /dev/null: nothing may wait for a terminal.
set -u

PEERGRAPH=${1:?usage: cli_usage.sh PATH-TO-peergraph}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
nosock=$tmp/no-daemon.sock
T=1b4e28ba-2fa1-11d2-883f-0016d3cca427 # a record type
unset PEERGRAPH_SOCKET
failures=0
rows=0

# check NUMBER STATUS FRAGMENT ARGS...: runs peergraph ARGS, wants STATUS and FRAGMENT in its
# standard output and error.
check() {
	n=$1 want=$2 frag=$3
	shift 3
	rows=$((rows + 1))
	out=$("$PEERGRAPH" "$@" </dev/null 2>&1)
	got=$?
	if [ "$got" -ne "$want" ]; then
		failures=$((failures + 1))
		printf 'row %s: peergraph %s: exit %s, wanted %s\n%s\n' "$n" "$*" "$got" "$want" "$out"
		return
	fi
	case $out in
	*"$frag"*) ;;
	*)
		failures=$((failures + 1))
		printf 'row %s: peergraph %s: no "%s" in:\n%s\n' "$n" "$*" "$frag" "$out"
		;;
	esac
}

# ---- manual pages: every level, every form of asking ------------------------------------------
check 100 0 "SYNOPSIS" --help
check 101 0 "EXIT STATUS" -h
check 102 0 "peergraph - " help
check 103 0 "peergraph record add - " help record add
n=110
while read -r page; do
	# shellcheck disable=SC2086 # a page is the words of a command's path
	{
		check $n 0 "peergraph $page - " $page --help
		check $((n + 1)) 0 "SYNOPSIS" $page -h
		check $((n + 2)) 0 "EXAMPLES" $page --help
		check $((n + 3)) 0 "GLOBAL OPTIONS" $page --help
		check $((n + 4)) 0 "4   not found" $page --help
		check $((n + 5)) 0 "peergraph $page - " help $page
	}
	n=$((n + 10))
done <<EOF
identity
identity create
identity list
identity delete
identity rename
identity default
identity export
identity import
graph
graph create
graph open
graph close
graph delete
graph list
graph status
graph export
graph import
graph listen
graph connect
graph disconnect
graph neighbours
record
record add
record update
record delete
record get
record list
record search
record watch
stats
help
EOF
check 900 0 "peergraph 0." --version
check 901 0 '{"version":' --json --version
check 902 0 "--json" record --socket /x --help # options anywhere at a group too
check 903 0 "5   busy: the node's flood queues are full" record add --help
check 904 0 "Waits until the link is up" graph connect --help
check 905 0 '"drops_unknown": 0' stats --help # the node's counters, by their names

# ---- usage errors: exit 2, the problem named --------------------------------------------------
S="--socket $nosock"
# shellcheck disable=SC2086 # $S is two words
{
	check 200 2 "missing a command: identity, graph, record, stats" $S
	check 201 2 "unknown command 'frob'" $S frob
	check 202 2 "missing a command: add, update" $S record
	check 203 2 "unknown command 'ad'" $S record ad
	check 204 2 "unknown option '--frob'" $S --frob graph list
	check 205 2 "unknown option '--frob'" $S graph list --frob
	check 206 2 "unknown option '-q'" $S graph list -q
	check 207 2 "option --socket needs a value" graph list --socket
	check 208 2 "--socket '': a socket path is 1 to 107 bytes" --socket "" graph list
	check 209 2 "a socket path is 1 to 107 bytes" \
		--socket "/$(printf '%0120d' 0)" graph list
	check 210 2 "See \`peergraph record add --help\`" $S record add
	check 211 2 "no command 'frob'" help record frob

	check 220 2 "missing CLASSIFIER" $S identity create
	check 221 2 "CLASSIFIER 'a b': a classifier is printable ASCII" $S identity create "a b"
	check 222 2 "a classifier is 1 to 149" $S identity create "$(printf '%0150d' 0)"
	check 223 2 "--default and --not-default exclude each other" \
		$S identity create alice --default --not-default
	check 224 2 "--friendly-name: a friendly name is UTF-8" \
		$S identity create alice --friendly-name "$(printf 'a\tb')"
	check 225 2 "unexpected operand 'bob'" $S identity create alice bob
	check 226 2 "PEERNAME 'alice': expected a peer name" $S identity delete alice
	check 227 2 "not confirmed: identity 0.alice kept" $S identity delete 0.alice
	check 228 2 "missing FRIENDLY_NAME" $S identity rename 0.alice
	check 229 2 "missing FILE" $S identity export 0.alice
	check 230 2 "no password: give --password-file" $S identity export 0.alice "$tmp/x.pgid"
	check 231 2 "--password-file $tmp/none: No such file" \
		$S identity export 0.alice "$tmp/x.pgid" --password-file "$tmp/none"
	: >"$tmp/empty"
	check 232 2 "the first line is empty" \
		$S identity import "$tmp/empty" --password-file "$tmp/empty"
	check 233 2 "FILE $tmp/none: No such file" $S identity import "$tmp/none"
	check 234 2 "FILE and --password-file cannot both be standard input" \
		$S identity import - --password-file -
	: >"$tmp/exists.pgid"
	printf 'pw\n' >"$tmp/pw"
	chmod 600 "$tmp/pw"
	check 235 2 "exists: choose another name, or give --force" \
		$S identity export 0.alice "$tmp/exists.pgid" --password-file "$tmp/pw"
	check 236 2 "FILE - (standard output) and --json exclude each other" \
		$S --json identity export 0.alice - --password-file "$tmp/pw"
	check 237 2 "FILE $tmp/none/x.pgid: No such file" \
		$S identity export 0.alice "$tmp/none/x.pgid" --password-file "$tmp/pw"

	check 240 2 "missing ID" $S graph create
	check 241 2 "a graph id is 1 to 256 bytes" $S graph create ""
	check 242 2 "without control characters" $S graph open "$(printf 'a\tb')"
	check 243 2 "--max-record-size 512: out of range: from 1K to 60M" \
		$S graph create g --max-record-size 512
	check 244 2 "--max-record-size 61M: out of range" $S graph create g --max-record-size 61M
	check 245 2 "--max-record-size 1.5M: expected a size" \
		$S graph create g --max-record-size 1.5M
	check 246 2 "--identity 'alice': expected a peer name" $S graph create g --identity alice
	check 247 2 "not confirmed: graph g kept" $S graph delete g
	check 248 2 "missing FILE" $S graph export g
	check 249 2 "FILE $tmp/none/x: No such file" $S graph export g "$tmp/none/x"
	check 250 2 "unexpected operand 'h'" $S graph status g h
	check 251 2 "GRAPH '': a graph id" $S stats ""
	check 252 2 "missing HOST:PORT" $S graph connect g
	check 253 2 "HOST:PORT 'nodeb': expected HOST:PORT" $S graph connect g nodeb
	check 254 2 "the port is a number from 1 to 65535" $S graph connect g nodeb:0
	check 255 2 "an IPv6 address goes in brackets" $S graph connect g ::1:3587
	check 256 2 "expected [IPV6]:PORT" $S graph disconnect g "[::1]3587"
	check 257 2 "--timeout 2h: out of range" $S graph connect g nodeb:3587 --timeout 2h
	check 258 2 "unknown option '--now'" $S graph listen g --now
	check 259 2 "missing ID" $S graph neighbours
	check 293 2 "unexpected operand 'x'" $S graph listen g x
	check 294 2 "the host is 1 to 253 characters" $S graph connect g ":3587"

	check 260 2 "missing GRAPH" $S record add
	check 261 2 "missing --type GUID" $S record add g
	check 262 2 "--type 1234: expected a GUID" $S record add g --type 1234
	check 263 2 "--id zz: expected a GUID" $S record add g --type "$T" --id zz
	check 264 2 "give one payload" $S record add g --type "$T" --payload a --payload-file b
	check 265 2 "--attr age: expected NAME=TYPE:VALUE" $S record add g --type "$T" --attr age
	check 266 2 "unknown attribute type 'float'" $S record add g --type "$T" --attr a=float:1
	check 267 2 "expected a whole number" $S record add g --type "$T" --attr a=int:x
	check 268 2 "'peerrecordid' is reserved" $S record add g --type "$T" --attr peerrecordid=int:1
	check 269 2 "attribute 'a' is given twice" \
		$S record add g --type "$T" --attr a=int:1 --attr a=int:2
	check 270 2 "--attr d=date:soon: expected an ISO 8601 time" \
		$S record add g --type "$T" --attr d=date:soon
	check 271 2 "--expires 0: out of range" $S record add g --type "$T" --expires 0
	check 272 2 "--expires 1y: expected seconds" $S record add g --type "$T" --expires 1y
	check 273 2 "--payload-file $tmp/none: No such file" \
		$S record add g --type "$T" --payload-file "$tmp/none"
	check 274 2 "--from reads every field from its lines" $S record add g --from - --type "$T"
	check 275 2 "--keep-going and --batch go with --from" $S record add g --type "$T" --batch 5
	check 276 2 "--batch 0: out of range: from 1 to 65536" $S record add g --from - --batch 0
	check 277 2 "--from $tmp/none: No such file" $S record add g --from "$tmp/none"
	check 278 2 "option --type needs a value" $S record add g --type
	check 279 2 "unknown option '--paylaod'" $S record add g --type "$T" --paylaod x

	check 280 2 "missing ID" $S record update g
	check 281 2 "nothing to update" $S record update g "$T"
	check 282 2 "--unset-attr a-b: an attribute name is ASCII" \
		$S record update g "$T" --unset-attr a-b
	check 283 2 "missing ID" $S record delete g
	check 284 2 "ID nope: expected a GUID" $S record delete g "$T" nope
	check 285 2 "--creator '': a creator is 1 to 256 bytes" $S record delete g "$T" --creator ""
	check 286 2 "--raw and --json exclude each other" $S record get g "$T" --raw --json
	check 287 2 "--type x: expected a GUID" $S record list g --type x
	check 288 2 "missing QUERY" $S record search g
	check 289 2 "QUERY: 1 to 65536 bytes" $S record search g ""
	check 290 2 "--count 0: out of range" $S record watch g --count 0
	check 291 2 "--timeout 31d: out of range" $S record watch g --timeout 31d
	check 292 2 "--timeout soon: expected seconds" $S record watch g --timeout soon
}

# ---- no daemon: exit 3, the socket named, what to do ------------------------------------------
check 300 3 "cannot reach the daemon at $nosock (socket from --socket): No such file" \
	--socket "$nosock" graph list
check 301 3 "is peergraphd running? start it with \`peergraphd\` or \`systemctl start" \
	--socket "$nosock" stats
check 302 3 "set --socket or PEERGRAPH_SOCKET" --socket "$nosock" identity list
export PEERGRAPH_SOCKET="$nosock"
check 303 3 "(socket from \$PEERGRAPH_SOCKET)" graph list
unset PEERGRAPH_SOCKET
: >"$tmp/stale.sock" # a file that is no socket: what a dead daemon's leftover looks like
check 304 3 "Connection refused" --socket "$tmp/stale.sock" record list g
check 305 3 '{"error":{"exit":3,' --json --socket "$nosock" graph status g
check 306 3 "cannot reach the daemon" --socket "$nosock" record add g --type "$T" --payload x
printf '{"type": "%s"}\n' "$T" >"$tmp/one.jsonl"
check 307 3 "cannot reach the daemon" --socket "$nosock" record add g --from "$tmp/one.jsonl"
check 308 3 "cannot reach the daemon" --socket "$nosock" record watch g --count 1
check 309 3 "cannot reach the daemon" --socket "$nosock" graph connect g 127.0.0.1:3587
check 310 3 "cannot reach the daemon" --socket "$nosock" graph neighbours g

if [ "$failures" -ne 0 ]; then
	echo "$failures of $rows rows failed"
	exit 1
fi
echo "$rows rows passed"
