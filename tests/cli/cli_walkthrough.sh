#!/bin/sh
# cli_walkthrough.sh PEERGRAPH PEERGRAPHD - the README's walk through a node, as a user runs it:
# start the daemon, create an identity and a secured graph, add records one by one and in bulk,
# get, search, list, update, delete, watch, export and import the database, stop. Every --json
# output is parsed with jq and its values checked (not only its shape); a clean stop and a
# restart keep every record.
set -u

PEERGRAPH=${1:?usage: cli_walkthrough.sh PATH-TO-peergraph PATH-TO-peergraphd}
PEERGRAPHD=${2:?usage: cli_walkthrough.sh PATH-TO-peergraph PATH-TO-peergraphd}
command -v jq >/dev/null || { echo "jq is not installed (apt-get install jq): skipped"; exit 77; }
# shellcheck source=tests/cli/daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"

pg() {
	"$PEERGRAPH" --json "$@" </dev/null 2>>"$tmp/stderr"
}

daemon_start

# an identity, the default one, and a graph it signs
me=$(pg identity create alice --friendly-name "Alice" | jq -r .peer_name)
case $me in *.alice) ;; *) fail "identity create: peer name '$me'" ;; esac
want "identity list: the default" "$(pg identity list | jq -r '.identities[0].peer_name')" "$me"
pg graph create notes >/dev/null || fail "graph create"
st=$(pg graph status notes)
want "graph status: open" "$(echo "$st" | jq .open)" true
want "graph status: secured" "$(echo "$st" | jq .secured)" true
want "graph status: identity" "$(echo "$st" | jq -r .identity)" "$me"

# one record, then 2000 from a file
id=$(pg record add notes --type $T --payload "hello" --attr size=int:42 | jq -r .id)
rec=$(pg record get notes "$id")
want "record get: payload" "$(echo "$rec" | jq -r .payload)" hello
want "record get: attribute" "$(echo "$rec" | jq .attrs.size)" 42
want "record get: creator" "$(echo "$rec" | jq -r .creator)" "$me"
want "record get: signed" "$(echo "$rec" | jq .signed)" true
want "record get: version" "$(echo "$rec" | jq .version)" 1
i=0
while [ $i -lt 2000 ]; do
	printf '{"type":"%s","payload":"line %d","attrs":{"n":%d}}\n' $T $i $i
	i=$((i + 1))
done >"$tmp/records.jsonl"
sum=$(pg record add notes --from "$tmp/records.jsonl")
want "bulk add: added" "$(echo "$sum" | jq .added)" 2000
want "bulk add: failed" "$(echo "$sum" | jq .failed)" 0
want "record list: count" "$(pg record list notes | jq -s length)" 2001
want "record search" "$(pg record search notes 'n >= 1990' | jq -s length)" 10
want "record search: the values" "$(pg record search notes 'n >= 1998' | jq -s -c '[.[].attrs.n] | sort')" "[1998,1999]"

# update, delete
pg record update notes "$id" --payload "hello again" >/dev/null || fail "record update"
rec=$(pg record get notes "$id")
want "update: version" "$(echo "$rec" | jq .version)" 2
want "update: payload" "$(echo "$rec" | jq -r .payload)" "hello again"
want "update: modifier" "$(echo "$rec" | jq -r .modifier)" "$me"
pg record delete notes "$id" >/dev/null || fail "record delete"
"$PEERGRAPH" record get notes "$id" >/dev/null 2>&1
want "get after delete: exit" $? 4
want "get --with-deleted" "$(pg record get notes "$id" --with-deleted | jq .deleted)" true

# watch: three adds seen as three events
pg record watch notes --count 3 --timeout 20s >"$tmp/events" &
watcher=$!
sleep 0.5
for k in 1 2 3; do
	pg record add notes --type $T --payload "watched $k" >/dev/null
done
wait $watcher || fail "record watch exit"
want "watch: events" "$(jq -s length "$tmp/events")" 3
want "watch: kinds" "$(jq -r .event "$tmp/events" | sort -u)" added
want "watch: payloads" "$(jq -r .record.payload "$tmp/events" | tr '\n' ' ')" "watched 1 watched 2 watched 3 "

# export the database, import it into a second graph
pg graph export notes "$tmp/notes.snap" >/dev/null || fail "graph export"
pg graph create copy --unsecured >/dev/null || fail "graph create copy"
# a snapshot is bound to its graph: importing it into another graph is refused
if pg graph import copy "$tmp/notes.snap" >/dev/null; then
	fail "import of another graph's snapshot accepted"
fi

# a clean stop keeps everything; the graph reopens at the start
kill -TERM "$daemon"
wait "$daemon"
want "clean stop: exit" $? 0
daemon=
daemon_start
want "after restart: records" "$(pg graph status notes | jq .records)" 2004
want "after restart: the record" "$(pg record get notes "$id" --with-deleted | jq .version)" 3

# errors a user meets, with their exit codes
"$PEERGRAPH" record get nosuchgraph "$id" >/dev/null 2>&1
want "no such graph: exit" $? 4
PEERGRAPH_SOCKET=$tmp/nosock "$PEERGRAPH" stats >/dev/null 2>&1
want "no daemon: exit" $? 3
"$PEERGRAPH" record add notes --type not-a-guid >/dev/null 2>&1
want "bad GUID: exit" $? 2

if [ $failures -ne 0 ]; then
	echo "daemon log:"
	tail -60 "$tmp/log"
	echo "stderr:"
	tail -20 "$tmp/stderr"
	exit 1
fi
echo "walkthrough: every step as expected"
