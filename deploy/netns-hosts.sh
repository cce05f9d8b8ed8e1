#!/usr/bin/env bash
# Simulates several hosts on one machine with network namespaces, for trying deploy/cluster.sh (and for the
# multi-host tests): namespaces PREFIX-host1..N on a bridge PREFIX-br, subnet 10.77.0.0/24, host i = 10.77.0.i,
# the machine itself 10.77.0.254. Needs root and iproute2.
#
#   netns-hosts.sh up N      create N hosts
#   netns-hosts.sh down      remove them
#   PREFIX (default "pf") keeps several simulations apart.
set -euo pipefail
prefix=${PREFIX:-pf}
bridge="${prefix}-br"
subnet=${SUBNET:-10.77.0}

case "${1:-}" in
  up)
    count=${2:?usage: netns-hosts.sh up N}
    ip link add "$bridge" type bridge
    ip addr add "$subnet.254/24" dev "$bridge"
    ip link set "$bridge" up
    for i in $(seq 1 "$count"); do
      ns="${prefix}-host$i"
      ip netns add "$ns"
      ip link add "${prefix}-v$i" type veth peer name eth0 netns "$ns"
      ip link set "${prefix}-v$i" master "$bridge" up
      ip -n "$ns" addr add "$subnet.$i/24" dev eth0
      ip -n "$ns" link set eth0 up
      ip -n "$ns" link set lo up
      echo "$ns $subnet.$i"
    done
    ;;
  down)
    for ns in $(ip netns list | awk '{print $1}' | grep "^${prefix}-host" || true); do
      ip netns pids "$ns" | xargs -r kill 2>/dev/null || true
      ip netns delete "$ns"
    done
    ip link delete "$bridge" 2>/dev/null || true
    ;;
  *)
    echo "usage: netns-hosts.sh up N | down" >&2
    exit 2
    ;;
esac
