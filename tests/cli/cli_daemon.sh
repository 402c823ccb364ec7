#!/bin/sh
# cli_daemon.sh PEERGRAPH PEERGRAPHD - the `peergraph` tool against a real daemon: each
# command once, its exit status, and the JSON it prints, key for key in the order doc/cli.md
# promises, since scripts and the end-to-end tests parse it.
#
# Each row: a number, the exit status wanted, a shell pattern the standard output must match
# (after `*`-globbing), and the arguments. The daemon runs on a scratch state directory and
# socket and is stopped at the end; standard input is /dev/null.
set -u

PEERGRAPH=${1:?usage: cli_daemon.sh PATH-TO-peergraph PATH-TO-peergraphd}
PEERGRAPHD=${2:?usage: cli_daemon.sh PATH-TO-peergraph PATH-TO-peergraphd}
# shellcheck source=tests/cli/daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"
rows=0

# check NUMBER STATUS PATTERN ARGS...: runs peergraph ARGS; wants STATUS, and its standard
# output to match PATTERN (a shell pattern: a JSON \" is matched by *). The output is left in
# $out.
check() {
	# a JSON [ would open a bracket expression: escape it
	n=$1 want=$2 pat=$(printf '%s' "$3" | sed 's/\[/\\[/g')
	shift 3
	rows=$((rows + 1))
	out=$("$PEERGRAPH" "$@" </dev/null 2>"$tmp/err")
	got=$?
	# shellcheck disable=SC2254 # the pattern is a pattern
	case $got:$out in
	"$want":$pat) return 0 ;;
	esac
	failures=$((failures + 1))
	printf 'row %s: peergraph %s: exit %s (wanted %s), output:\n%s\nstderr:\n%s\nwanted: %s\n' \
		"$n" "$*" "$got" "$want" "$out" "$(cat "$tmp/err")" "$pat"
}

daemon_start

# ---- identities and graphs ------------------------------------------------------------------
check 1 0 '{"daemon":{"version":"*","uid":*,"socket":"'"$tmp"'/sock"},"graphs":[],"node":{"address":"127.0.0.1:*","rx_datagrams":*,"drops_decode":0,*"links":0}}' \
	--json stats
check 2 0 '{"peer_name":"*.alice"}' --json identity create alice --friendly-name Alice
alice=$(printf '%s' "$out" | sed 's/.*"peer_name":"\([^"]*\)".*/\1/')
check 3 0 '{"identities":[{"peer_name":"'"$alice"'","friendly_name":"Alice","default":true}]}' \
	--json identity list
check 4 0 "*$alice*Alice" identity list
check 5 0 '{"peer_name":"'"$alice"'","friendly_name":"Alice (test)"}' \
	--json identity rename "$alice" "Alice (test)"
printf 'a password\n' >"$tmp/pw"
chmod 600 "$tmp/pw"
check 6 0 '{"peer_name":"*.bob"}' --json identity create bob --not-default
bob=$(printf '%s' "$out" | sed 's/.*"peer_name":"\([^"]*\)".*/\1/')
check 7 0 '{"peer_name":"'"$bob"'","file":"*/bob.pgid","bytes":*}' \
	--json identity export "$bob" "$tmp/bob.pgid" --password-file "$tmp/pw"
cp "$tmp/bob.pgid" "$tmp/bob.old"
check 8 4 '{"error":{"exit":4,"code":-1106,*}}' --json identity export \
	0123456789012345678901234567890123456789.none "$tmp/bob.pgid" --force \
	--password-file "$tmp/pw"
rows=$((rows + 1)) # row 9: a failed export leaves the file as it was
cmp -s "$tmp/bob.pgid" "$tmp/bob.old" || {
	failures=$((failures + 1))
	echo "row 9: the failed export changed $tmp/bob.pgid"
}
check 10 0 '{"peer_name":"'"$bob"'","deleted":true}' --json identity delete "$bob" --yes
check 11 0 '{"peer_name":"'"$bob"'"}' --json identity import "$tmp/bob.pgid" \
	--password-file "$tmp/pw"
check 12 1 '{"error":{"exit":1,"code":-1105,*}}' --json identity import "$tmp/bob.pgid" \
	--password-file "$tmp/pw"
check 13 0 '{"graph":"chat","created":true}' --json graph create chat
check 14 0 '{"graph":"chat","open":true,"secured":true,"listening":false,"identity":"'"$alice"'","records":0,"max_record_size":1048576,"links":0}' \
	--json graph status chat
check 15 0 '{"graph":"raw","created":true}' --json graph create raw --unsecured \
	--max-record-size 64K
check 16 0 '{"graphs":[{"graph":"*","open":true,*},{"graph":"*","open":true,*}]}' \
	--json graph list
check 17 1 '{"error":{"exit":1,"code":-17,"message":"cannot create graph *chat*: *exists"}}' \
	--json graph create chat
check 18 4 '{"error":{"exit":4,"code":-1042,"message":"cannot open graph *nope*: *"}}' \
	--json graph open nope

# ---- records --------------------------------------------------------------------------------
check 20 0 '{"graph":"chat","id":"*","type":"'$T'"}' --json record add chat --type $T \
	--payload hello --attr room=str:lobby --attr prio=int:2 --attr born=date:2001-02-03 \
	--expires 7d
id=$(printf '%s' "$out" | sed 's/.*"id":"\([^"]*\)".*/\1/')
check 21 0 '{"id":"'"$id"'","type":"'$T'","creator":"'"$alice"'","modifier":"","version":1,"created":"20*.??????Z","modified":"20*Z","expires":"20*Z","deleted":false,"auto_refresh":false,"signed":true,"attrs":{"born":{"date":"2001-02-03T00:00:00.000000Z"},"prio":2,"room":"lobby"},"payload":"hello"}' \
	--json record get chat "$id"
check 22 0 "id:*$id*payload:     5 bytes: hello" record get chat "$id"
check 23 0 hello record get chat "$id" --raw
check 24 0 '{"graph":"chat","id":"'"$id"'","version":2}' --json record update chat "$id" \
	--attr prio=int:3 --unset-attr born
check 25 0 '*"modifier":"'"$alice"'","version":2,*"attrs":{"prio":3,"room":"lobby"},*' \
	--json record get chat "$id"
printf '\000\001binary' >"$tmp/bin"
check 26 0 '{"graph":"chat","id":"*"}' --json record add chat --type $T --payload-file "$tmp/bin"
check 27 0 '*"payload_b64":"AAFiaW5hcnk="}' --json record get chat \
	"$(printf '%s' "$out" | sed 's/.*"id":"\([^"]*\)".*/\1/')"
check 28 0 '{"id":*}
{"id":*}' --json record list chat
check 29 0 '{"id":"'"$id"'",*}' --json record search chat 'room = "lob*"'
check 30 1 '{"error":{"exit":1,"code":-1060,*}}' --json record search chat 'room ='
check 31 4 '{"error":{"exit":4,"code":-1042,*}}' --json record get chat \
	00000000-0000-0000-0000-000000000001

# ---- the batch loader -----------------------------------------------------------------------
i=0
: >"$tmp/in.jsonl"
while [ $i -lt 50 ]; do
	printf '{"type":"%s","payload":"r%d","attrs":{"n":%d},"expires_in":600}\n' $T $i $i \
		>>"$tmp/in.jsonl"
	i=$((i + 1))
done
check 40 0 '{"graph":"raw","lines":50,"added":50,"failed":0,"skipped":0,"not_sent":0,"seconds":*,"records_per_second":*,"failures":[],"stopped":null}' \
	--json record add raw --from "$tmp/in.jsonl" --batch 7
printf '{"type":"%s","payload":"%070000d"}\n{"type":"%s"}\n' $T 0 $T >"$tmp/big.jsonl"
check 41 1 '*"added":1,"failed":1,*"failures":[{"code":-1006,*"count":1,"first_line":1}],"stopped":null}' \
	--json record add raw --from "$tmp/big.jsonl"
printf '{"type":"%s"}\n{"type":"x"}\n{"type":"%s"}\n' $T $T >"$tmp/bad.jsonl"
check 42 2 '*"added":1,*"stopped":{"line":2,"exit":2,"code":-22,"message":"*"}}' \
	--json record add raw --from "$tmp/bad.jsonl"
check 43 1 '*"added":2,"failed":0,"skipped":1,*"stopped":null}' \
	--json record add raw --from "$tmp/bad.jsonl" --keep-going
check 44 0 '{"graph":"raw","open":true,"secured":false,*"records":54,*}' --json graph status raw

# ---- events ---------------------------------------------------------------------------------
"$PEERGRAPH" --json record watch chat --count 2 --timeout 10 >"$tmp/watch" 2>&1 &
watcher=$!
sleep 0.5
"$PEERGRAPH" record add chat --type $T --payload w1 >/dev/null
"$PEERGRAPH" record delete chat "$id" >/dev/null
wait $watcher
rows=$((rows + 1))
case $?:$(cat "$tmp/watch") in
'0:{"event":"added","graph":"chat","seq":'*',"record":{"id":"'*'"payload":"w1"}}
{"event":"deleted","graph":"chat","seq":'*',"record":{"id":"'"$id"'",'*'"deleted":true,'*) ;;
*)
	failures=$((failures + 1))
	printf 'row 50: record watch --count 2: %s\n' "$(cat "$tmp/watch")"
	;;
esac
check 51 0 '*"deleted":true,*' --json record get chat "$id" --with-deleted
check 52 0 '' record watch chat --timeout 1

# ---- closed, deleted, gone --------------------------------------------------------------------
check 60 0 '{"graph":"raw","open":false}' --json graph close raw
check 61 1 '{"error":{"exit":1,"code":-107,"message":"*is closed*"}}' --json record list raw
check 62 2 '' graph delete raw
check 63 0 '{"graph":"raw","deleted":true}' --json graph delete raw --yes
kill "$daemon" && wait "$daemon" 2>/dev/null
daemon=
check 70 3 '{"error":{"exit":3,*"message":"cannot reach the daemon at *"}}' --json stats

if [ "$failures" -ne 0 ]; then
	echo "$failures of $rows rows failed"
	exit 1
fi
echo "$rows rows passed"
