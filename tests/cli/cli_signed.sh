#!/bin/sh
# cli_signed.sh PEERGRAPH PEERGRAPHD - a secured graph floods only what its nodes trust.
#
# Four daemons, each with an identity of its own and graph "lab" secured by it (every record
# signed by its creator). Nodes 1, 2 and 3 trust one another: the trust file (`[daemon]
# trust`) lists their identity certificates and they re-read it on SIGHUP. Node 4 ("mallory")
# is linked to node 3 and trusts everyone, but nobody trusts it. Records node 1 and node 3
# add are verified and stored on every node; the records mallory adds are refused by node 3
# and never reach nodes 1 and 2, whose databases stay identical to node 3's.
set -u

PEERGRAPH=${1:?usage: cli_signed.sh PATH-TO-peergraph PATH-TO-peergraphd}
PEERGRAPHD=${2:?usage: cli_signed.sh PATH-TO-peergraph PATH-TO-peergraphd}
command -v jq >/dev/null || { echo "jq is not installed (apt-get install jq): skipped"; exit 77; }
command -v sha256sum >/dev/null || { echo "no sha256sum: skipped"; exit 77; }

RECORDS=300
# shellcheck source=tests/cli/daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"
unset PEERGRAPH_SOCKET

logs() {
	for n in 1 2 3 4; do
		echo "---- node $n"
		cat "$tmp/n$n/log"
	done
	echo "---- stderr"
	cat "$tmp/stderr"
}

: >"$tmp/trust"
: >"$tmp/trust-all"

for n in 1 2 3; do node_start $n --set "daemon.trust=$tmp/trust"; done
node_start 4 --set "daemon.trust=$tmp/trust-all"
# shellcheck disable=SC2154 # set by node_start through eval
echo "nodes at $addr1 $addr2 $addr3 $addr4"

for n in 1 2 3 4; do
	peer=$(pg $n identity create "node$n" | jq -r .peer_name)
	case $peer in
	[0-9a-f]*.node$n) ;;
	*) fail "node $n: identity create: '$peer'" ;;
	esac
	eval "peer$n=\$peer"
	cert="$tmp/n$n/state/identities/$peer/cert.pem"
	[ -f "$cert" ] || fail "node $n: no certificate at $cert"
	[ $n -le 3 ] && echo "$cert" >>"$tmp/trust"
	echo "$cert  # node $n" >>"$tmp/trust-all"
done
# shellcheck disable=SC2154
for n in 1 2 3 4; do
	eval "kill -HUP \$pid$n"
done
for n in 1 2 3; do
	until_eq 5 "node $n: trust file re-read" 1 \
		sh -c "grep -c 'trust file .*: 2 new keys' '$tmp/n$n/log'"
done
until_eq 5 "node 4: trust file re-read" 1 sh -c "grep -c 'trust file .*: 3 new keys' '$tmp/n4/log'"

for n in 1 2 3 4; do
	eval "peer=\$peer$n"
	out=$(pg $n graph create lab --identity "$peer")
	want "node $n: graph create" "$(echo "$out" | jq -r .graph)" lab
	want "node $n: secured" "$(pg $n graph status lab | jq .secured)" true
	pg $n graph listen lab >/dev/null || fail "node $n: listen"
done
want "connect 1->2" "$(pg 1 graph connect lab "$addr2" | jq .connected)" true
want "connect 2->3" "$(pg 2 graph connect lab "$addr3" | jq .connected)" true
want "connect 4->3" "$(pg 4 graph connect lab "$addr3" | jq .connected)" true

# signed records from node 1 and node 3 are verified and stored everywhere
gen() {
	i=0
	while [ $i -lt "$2" ]; do
		printf '{"type":"%s","payload":"%s %d"}\n' $T "$1" $i
		i=$((i + 1))
	done
}
gen one $RECORDS >"$tmp/one.jsonl"
gen three $RECORDS >"$tmp/three.jsonl"
want "node 1: added" "$(pg 1 record add lab --from "$tmp/one.jsonl" | jq .added)" $RECORDS
want "node 3: added" "$(pg 3 record add lab --from "$tmp/three.jsonl" | jq .added)" $RECORDS
both=$((2 * RECORDS))
for n in 1 2 3 4; do
	until_eq 30 "node $n: records" $both records_of $n
done
d=$(digest 1)
want "node 2 = node 1" "$(digest 2)" "$d"
want "node 3 = node 1" "$(digest 3)" "$d"
# shellcheck disable=SC2154
want "node 2 holds node 3's records, signed by node 3" \
	"$(pg 2 record list lab | jq -r .creator | grep -c "^$peer3\$")" $RECORDS

# mallory's records reach node 3, which refuses them: nobody else ever sees them
gen mallory 50 >"$tmp/mallory.jsonl"
want "node 4: added" "$(pg 4 record add lab --from "$tmp/mallory.jsonl" | jq .added)" 50
until_eq 5 "node 4: records" $((both + 50)) records_of 4
sleep 2
for n in 1 2 3; do
	want "node $n: mallory's records refused" "$(records_of $n)" $both
done
want "node 3 = node 1 after mallory" "$(digest 3)" "$d"

if [ "$failures" -ne 0 ]; then
	logs
	echo "$failures checks failed"
	exit 1
fi
echo "a secured graph of three flooded $both signed records and refused 50 untrusted ones"
