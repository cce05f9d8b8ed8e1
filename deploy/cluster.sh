#!/usr/bin/env bash
# Launches a PixelFlow cluster across several hosts: the coordinator on one, workers on the others.
#
#   cluster.sh up HOSTS_FILE       copy the binary and config, start the coordinator, then the workers
#   cluster.sh down HOSTS_FILE     stop every process this script started (by the PIDs it recorded)
#   cluster.sh status HOSTS_FILE   which processes run, and the coordinator's /readyz
#
# HOSTS_FILE, one host a line ('#' comments):
#   coordinator HOST [port=7400] [http=7401]
#   worker HOST [slots=N] [name=NAME]
#
# Environment:
#   PIXELFLOW_CONFIG   coordinator config (JSON, README "Configuration"); must hold join.secret. Required for up.
#   PIXELFLOW_BIN      the pixelflow binary to deploy (default .build/release/pixelflow)
#   REMOTE             how to reach a host: "ssh" (default: ssh HOST, scp for copies) or "netns"
#                      (ip netns exec HOST, for namespaces made by deploy/netns-hosts.sh; no copies needed)
#   REMOTE_DIR         where files go on the hosts (default /opt/pixelflow; with netns, a folder per host inside it)
#   TLS                1: TLS 1.3 on every link. `up` makes a private CA and a certificate per host with
#                      `pixelflow certs init` (in CERTS_DIR, default ./pixelflow-certs), copies each host its own,
#                      starts the coordinator with them (tls.cert, tls.key, and tls.client_ca: workers must show
#                      theirs) and the workers with --ca, --cert and --key. Clients then need --ca CERTS_DIR/ca.pem.
set -euo pipefail

action=${1:?usage: cluster.sh up|down|status HOSTS_FILE}
hosts_file=${2:?usage: cluster.sh up|down|status HOSTS_FILE}
remote=${REMOTE:-ssh}
remote_dir=${REMOTE_DIR:-/opt/pixelflow}
bin=${PIXELFLOW_BIN:-.build/release/pixelflow}
tls=${TLS:-0}
certs_dir=${CERTS_DIR:-pixelflow-certs}

on() {  # on HOST COMMAND...: run a shell command on HOST
  local host=$1; shift
  case "$remote" in
    ssh) ssh -o BatchMode=yes "$host" "$*" ;;
    netns) ip netns exec "$host" sh -c "$*" ;;
    *) echo "REMOTE must be ssh or netns" >&2; exit 2 ;;
  esac
}

dir_of() {  # dir_of HOST: where HOST's files live (namespaces share one file system, so each gets a folder)
  case "$remote" in
    netns) echo "$remote_dir/$1" ;;
    *) echo "$remote_dir" ;;
  esac
}

copy() {  # copy FILE HOST: put FILE into HOST's folder
  local dir
  dir=$(dir_of "$2")
  case "$remote" in
    ssh) on "$2" "mkdir -p $dir" && scp -q "$1" "$2:$dir/" ;;
    netns) mkdir -p "$dir" && cp "$1" "$dir/" ;;
  esac
}

option() {  # option NAME DEFAULT WORDS...: the value of NAME=... among WORDS
  local name=$1 default=$2; shift 2
  for word in "$@"; do [[ $word == "$name="* ]] && { echo "${word#*=}"; return; }; done
  echo "$default"
}

# Address the coordinator is reached at, from the first coordinator line.
read -r _ coordinator_host coordinator_rest < <(grep -E '^coordinator[[:space:]]' "$hosts_file" | head -1) || true
[ -n "${coordinator_host:-}" ] || { echo "no coordinator line in $hosts_file" >&2; exit 2; }
# shellcheck disable=SC2086
port=$(option port 7400 ${coordinator_rest:-})
# shellcheck disable=SC2086
http=$(option http 7401 ${coordinator_rest:-})
coordinator_address=$coordinator_host
[ "$remote" = netns ] && coordinator_address=$(ip -n "$coordinator_host" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)

start() {  # start HOST NAME ARGS...: run pixelflow ARGS in the background on HOST, record its PID
  local host=$1 name=$2; shift 2
  on "$host" "cd $(dir_of "$host") || exit 1; $start_env nohup ./pixelflow $* > $name.log 2>&1 & echo \$! > $name.pid"
  echo "started $name on $host"
}
start_env=""

make_certificates() {  # one certificate per host: the coordinator's names the address workers and clients dial
  local hosts=("--host" "$coordinator_address")
  while read -r role host _; do
    [ "${role:-}" = worker ] && hosts+=("--host" "$host")
  done < <(cat "$hosts_file"; echo)
  "$bin" certs init "$certs_dir" "${hosts[@]}" > /dev/null
  echo "certificates in $certs_dir (clients: --ca $certs_dir/ca.pem)"
}

case "$action" in
  up)
    [ -n "${PIXELFLOW_CONFIG:-}" ] || { echo "set PIXELFLOW_CONFIG to the coordinator config" >&2; exit 2; }
    [ "$tls" = 1 ] && make_certificates
    while read -r role host _; do
      [[ -z "${role:-}" || $role == \#* ]] && continue
      copy "$bin" "$host"
      copy "$PIXELFLOW_CONFIG" "$host"
      if [ "$tls" = 1 ]; then
        name=$host
        [ "$role" = coordinator ] && name=$coordinator_address
        copy "$certs_dir/ca.pem" "$host"
        copy "$certs_dir/$name.pem" "$host"
        copy "$certs_dir/$name-key.pem" "$host"
      fi
    done < <(cat "$hosts_file"; echo)
    config=$(basename "$PIXELFLOW_CONFIG")
    [ "$tls" = 1 ] && start_env="PIXELFLOW_TLS_CERT=$coordinator_address.pem PIXELFLOW_TLS_KEY=$coordinator_address-key.pem PIXELFLOW_TLS_CLIENT_CA=ca.pem"
    start "$coordinator_host" coordinator coordinator --config "$config" --listen "0.0.0.0:$port" --http "0.0.0.0:$http"
    start_env=""
    # Workers retry with backoff anyway; waiting for the coordinator's first line just makes startup tidy.
    for _ in $(seq 1 100); do
      on "$coordinator_host" "grep -q listening $(dir_of "$coordinator_host")/coordinator.log" 2>/dev/null && break
      sleep 0.1
    done
    index=0
    while read -r role host rest; do
      [ "${role:-}" = worker ] || continue
      index=$((index + 1))
      # shellcheck disable=SC2086
      slots=$(option slots 2 $rest)
      # shellcheck disable=SC2086
      name=$(option name "worker$index-$host" $rest)
      tls_flags=""
      [ "$tls" = 1 ] && tls_flags="--ca ca.pem --cert $host.pem --key $host-key.pem"
      start "$host" "worker$index" worker --coordinator "$coordinator_address:$port" --slots "$slots" --name "$name" --config "$config" $tls_flags
    done < <(cat "$hosts_file"; echo)
    echo "coordinator: $coordinator_address:$port (HTTP $coordinator_address:$http)"
    ;;
  down)
    index=0
    while read -r role host _; do
      [ "${role:-}" = worker ] || continue
      index=$((index + 1))
      on "$host" "cd $(dir_of "$host") && [ -f worker$index.pid ] && kill -TERM \$(cat worker$index.pid) 2>/dev/null; rm -f worker$index.pid" || true
    done < <(cat "$hosts_file"; echo)
    on "$coordinator_host" "cd $(dir_of "$coordinator_host") && [ -f coordinator.pid ] && kill -TERM \$(cat coordinator.pid) 2>/dev/null; rm -f coordinator.pid" || true
    echo "stopped"
    ;;
  status)
    while read -r role host _; do
      [[ -z "${role:-}" || $role == \#* ]] && continue
      on "$host" "cd $(dir_of "$host") && for f in *.pid; do [ -f \"\$f\" ] && { kill -0 \$(cat \"\$f\") 2>/dev/null && echo \"$host \${f%.pid} running\" || echo \"$host \${f%.pid} stopped\"; }; done" || true
    done < <(cat "$hosts_file"; echo)
    ;;
  *)
    echo "usage: cluster.sh up|down|status HOSTS_FILE" >&2
    exit 2
    ;;
esac
