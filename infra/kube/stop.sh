#!/usr/bin/env bash
# stop.sh WORKDIR [--keep]: stop the processes start.sh started (by pid) and remove WORKDIR
set -uo pipefail
W=${1:?workdir}
[[ -f $W/pids ]] || exit 0
# The real node first (node.sh), while the API server still tells its kubelet to stop the pods.
[[ -d $W/node ]] && "$(dirname "$0")/node.sh" stop "$W"
tac "$W/pids" | while read -r _ pid; do kill "$pid" 2>/dev/null; done
for _ in $(seq 1 50); do
  alive=0; while read -r _ pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$W/pids"
  [[ $alive == 0 ]] && break; sleep 0.1
done
while read -r _ pid; do kill -9 "$pid" 2>/dev/null; done <"$W/pids"
[[ ${2:-} == --keep ]] || rm -rf "$W"
