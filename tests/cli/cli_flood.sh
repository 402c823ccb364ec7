#!/bin/sh
# cli_flood.sh PEERGRAPH PEERGRAPHD - three nodes on 127.0.0.1 flood one graph, as a user
# wires them with the tool: each daemon on a port of its own (127.0.0.1:0, the bound port
# read from its log), graph "lab" (unsecured) on each, all listening, links 1->2 and 2->3;
# 1000 records added on node 1 must reach node 3 through node 2, and the three databases must
# then be the same (ids and versions). A connect to a node without the graph must fail with
# its reason; a disconnect must be a neighbour_down event on both sides.
#
# It needs the dataplane's flooding (dataplane/node.c): before that lands it fails at the
# first connect.
set -u

PEERGRAPH=${1:?usage: cli_flood.sh PATH-TO-peergraph PATH-TO-peergraphd}
PEERGRAPHD=${2:?usage: cli_flood.sh PATH-TO-peergraph PATH-TO-peergraphd}
command -v jq >/dev/null || { echo "jq is not installed (apt-get install jq): skipped"; exit 77; }
command -v sha256sum >/dev/null || { echo "no sha256sum: skipped"; exit 77; }

RECORDS=1000
# shellcheck source=tests/cli/daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"
unset PEERGRAPH_SOCKET # every call names its node's socket

logs() {
	for n in 1 2 3; do
		echo "---- node $n"
		cat "$tmp/n$n/log"
	done
	echo "---- stderr"
	cat "$tmp/stderr"
}

links_of() {
	pg "$1" graph status lab | jq .links
}

node_start 1
node_start 2
node_start 3
# shellcheck disable=SC2154 # set by node_start through eval
echo "nodes at $addr1 $addr2 $addr3"

for n in 1 2 3; do
	pg "$n" graph create lab --unsecured >/dev/null || fail "node $n: graph create"
	want "node $n: listen" "$(pg "$n" graph listen lab | jq .listening)" true
	want "node $n: status listening" "$(pg "$n" graph status lab | jq .listening)" true
done

# links 1->2 and 2->3, each waited for
c=$(pg 1 graph connect lab "$addr2")
want "connect 1->2" "$(echo "$c" | jq .connected)" true
want "connect 1->2: the node" "$(echo "$c" | jq -r .node)" node2
want "connect 1->2: the address" "$(echo "$c" | jq -r .address)" "$addr2"
c=$(pg 2 graph connect lab "$addr3")
want "connect 2->3" "$(echo "$c" | jq .connected)" true
until_eq 5 "node 2: links" 2 links_of 2
until_eq 5 "node 1: links" 1 links_of 1
until_eq 5 "node 3: links" 1 links_of 3
nb=$(pg 2 graph neighbours lab)
want "node 2: neighbours" "$(echo "$nb" | jq -c '[.neighbours[].node] | sort')" '["node1","node3"]'
want "node 2: initiator towards node 3" \
	"$(echo "$nb" | jq '.neighbours[] | select(.node == "node3") | .initiator')" true
want "node 2: responder towards node 1" \
	"$(echo "$nb" | jq '.neighbours[] | select(.node == "node1") | .initiator')" false
# connecting again is no error
want "connect 1->2 again" "$(pg 1 graph connect lab "$addr2" | jq .connected)" true

# a node without the graph refuses the link, and says why
pg 1 graph create solo --unsecured >/dev/null || fail "graph create solo"
out=$(pg 1 graph connect solo "$addr3")
want "connect to a node without the graph: exit" $? 1
case $out in
*"no such graph open and listening"*) ;;
*) fail "connect to a node without the graph: no reason in: $out" ;;
esac

# 1000 records on node 1 reach node 3 through node 2
i=0
while [ $i -lt $RECORDS ]; do
	printf '{"type":"%s","payload":"flood %d","attrs":{"n":%d}}\n' $T $i $i
	i=$((i + 1))
done >"$tmp/records.jsonl"
sum=$(pg 1 record add lab --from "$tmp/records.jsonl")
want "node 1: added" "$(echo "$sum" | jq .added)" $RECORDS
until_eq 30 "node 3: records" $RECORDS records_of 3
until_eq 5 "node 2: records" $RECORDS records_of 2
d1=$(digest 1)
want "node 2 holds node 1's records" "$(digest 2)" "$d1"
want "node 3 holds node 1's records" "$(digest 3)" "$d1"
nb=$(pg 1 graph neighbours lab)
want "node 1: records sent to node 2" "$(echo "$nb" | jq '.neighbours[0].records_tx >= 1000')" true
want "node 1: no reassembly timed out" "$(echo "$nb" | jq '.neighbours[0].reasm_timeouts')" 0
want "node 3: its dataplane counted the records" \
	"$(pg 3 stats | jq '.node.records_new >= 1000 and .node.drops_decode == 0')" true

# a disconnect is a neighbour_down on both sides: node 2 hears it from node 1
pg 1 record watch lab --count 1 --timeout 10s >"$tmp/events1" &
w1=$!
pg 2 record watch lab --count 1 --timeout 10s >"$tmp/events2" &
w2=$!
sleep 0.5
want "disconnect 1-2" "$(pg 1 graph disconnect lab "$addr2" | jq .disconnected)" true
wait $w1 || fail "node 1: record watch exit"
wait $w2 || fail "node 2: record watch exit"
want "node 1: event" "$(jq -r .event "$tmp/events1")" neighbour_down
want "node 1: event address" "$(jq -r .address "$tmp/events1")" "$addr2"
want "node 1: by itself" "$(jq .by_peer "$tmp/events1")" false
want "node 2: event" "$(jq -r .event "$tmp/events2")" neighbour_down
want "node 2: event node" "$(jq -r .node "$tmp/events2")" node1
want "node 2: by the other node" "$(jq .by_peer "$tmp/events2")" true
until_eq 5 "node 1: links after the disconnect" 0 links_of 1
"$PEERGRAPH" --socket "$tmp/n1/sock" graph disconnect lab "$addr2" >/dev/null 2>&1
want "disconnect again: exit (not found)" $? 4

if [ "$failures" -ne 0 ]; then
	logs
	echo "$failures checks failed"
	exit 1
fi
echo "three nodes flooded $RECORDS records"
