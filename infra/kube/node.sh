#!/usr/bin/env bash
# A real node beside the control plane that start.sh runs: the kubelet (built by build.sh) on
# Debian's containerd and runc (make node-tools), pods on a bridge of their own (the bridge and
# host-local CNI plugins), the pause image built from ./pause, and a registry on 127.0.0.1
# (crane registry serve) that containerd pulls registry.carthub.test/... from over http. The
# kwok nodes stay: the kubelet's node is tainted carthub.dev/node=kubelet:NoSchedule and labelled
# carthub.dev/node=kubelet, so only pods that ask for it (k8s-synth/config/node.yaml) run here.
#
#   node.sh start WORKDIR   appends the node's variables to WORKDIR/env.sh (below)
#   node.sh stop WORKDIR    removes the node's pods, stops what start started, removes the bridge
#                           and the cgroups (stop.sh calls it)
#
# With KUBE_ROUTER (the binary build-kube-router.sh prints), kube-router's network-policy controller
# runs beside the kubelet and enforces the NetworkPolicies of the node's pods with Debian's iptables
# and ipset (make node-tools); its router and service proxy stay off. One runs on a machine at a
# time (a lock in /run; a second node waits up to 5 minutes for it), and stop removes its chains
# and ipsets, since its own --cleanup-config panics.
#
# env.sh then also sets KUBE_NODE (the node's name), KUBE_NODE_IP (the bridge's address, the node's
# InternalIP; servers the pods must reach listen there), KUBE_POD_CIDR, KUBE_REGISTRY (host:port to
# push to), KUBE_REGISTRY_NAME (what pods pull from) and CONTAINERD_ADDRESS (for ctr).
#
# What this machine needs and why (cgroup v1, no systemd, no AppArmor, no CAP_SYS_RESOURCE): the
# kubelet runs with failCgroupV1: false, the cgroupfs driver and oomScoreAdj 0, under a cgroup root
# of its own (another node on the machine never sees its pods); containerd with
# restrict_oom_score_adj and disable_apparmor; the node IP is the bridge's, since a kubelet refuses
# a loopback one.
#
# Environment: KUBE_BIN (build.sh's), KUBECTL, CRANE (default: the repository's .data/tools/crane),
# KUBE_ROUTER (default: none, no NetworkPolicy is enforced).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cmd=${1:?start|stop} W=${2:?workdir}
W=$(cd "$W" && pwd)
N=$W/node
NODE=kubelet-node
REGISTRY_NAME=registry.carthub.test
TAINT=carthub.dev/node
T0=$(date +%s.%N)
log() { awk -v t0="$T0" -v t1="$(date +%s.%N)" -v m="$*" 'BEGIN{printf "[node %6.2fs] %s\n", t1-t0, m}' >&2; }
die() { log "ERROR: $*"; exit 1; }
K() { "${KUBECTL:-kubectl}" --kubeconfig="$W/admin.kubeconfig" "$@"; }
CTR() { ctr --address "$N/containerd.sock" --namespace k8s.io "$@"; }
KUBE_ROUTER_LOCK=/run/carthub-kube-router.lock

# kube-router's chains and ipsets, and the jumps to them from the built-in chains: what its
# network-policy controller adds to the machine's tables. Everything else stays as it was.
kube_router_chains='KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-'
remove_kube_router_rules() {
  local rules sets
  rules=$(iptables-save -t filter 2>/dev/null | awk -v ours="($kube_router_chains)" '
    $0 ~ "^:" ours { chains[++n] = substr($1, 2) }
    $0 ~ "^-A (INPUT|FORWARD|OUTPUT) .*-j " ours { sub(/^-A/, "-D"); print }
    END { for (i = 1; i <= n; i++) print "-F " chains[i]; for (i = 1; i <= n; i++) print "-X " chains[i] }')
  [ -z "$rules" ] || printf '*filter\n%s\nCOMMIT\n' "$rules" | iptables-restore --noflush
  sets=$(ipset list -n 2>/dev/null | grep -E '^KUBE-(SRC|DST)-' || true)
  for s in $sets; do ipset destroy "$s"; done
}

stop_node() {
  set +e # best effort: every step, whatever the one before did
  [ -d "$N" ] || return 0
  [ -n "${KUBECTL:-}" ] || KUBECTL=$(cat "$N/kubectl" 2>/dev/null || echo kubectl)
  if [ -S "$N/containerd.sock" ]; then
    # Through the API first: the kubelet stops the containers and CNI removes the pods' networks.
    if [ -f "$N/kubelet.pid" ] && kill -0 "$(cat "$N/kubelet.pid")" 2>/dev/null; then
      timeout 10 "${KUBECTL:-kubectl}" --kubeconfig="$W/admin.kubeconfig" delete pods -A --field-selector "spec.nodeName=$NODE" \
        --grace-period=1 --wait=false >/dev/null 2>&1 || true
      for _ in $(seq 1 50); do
        [ -z "$(CTR tasks ls -q 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  # kube-router: its runner removes the rules it made once it has ended, then lets go of the lock.
  if [ -f "$N/policy-runner.pid" ]; then
    runner=$(cat "$N/policy-runner.pid")
    [ -f "$N/kube-router.pid" ] && kill "$(cat "$N/kube-router.pid")" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$runner" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$runner" 2>/dev/null; then
      # A runner that hangs: end it, then clean up under the lock (unless another node's holds it).
      kill -9 "$runner" "$(cat "$N/kube-router.pid" 2>/dev/null)" 2>/dev/null
      [ -f "$N/kube-router.pid" ] && (flock -w 30 9 && remove_kube_router_rules) 9>"$KUBE_ROUTER_LOCK"
    fi
    rm -f "$N/policy-runner.pid" "$N/kube-router.pid"
  fi
  for p in kubelet containerd registry; do
    [ -f "$N/$p.pid" ] && kill "$(cat "$N/$p.pid")" 2>/dev/null
    [ "$p" = kubelet ] && sleep 0.5
    if [ "$p" = kubelet ] && [ -S "$N/containerd.sock" ]; then
      # What the kubelet left: kill the tasks, release their network namespaces.
      for c in $(CTR containers ls -q 2>/dev/null); do
        ns=$(CTR containers info "$c" 2>/dev/null | jq -r '.Spec.linux.namespaces[]? | select(.type == "network") | .path // empty' || true)
        CTR tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
        CTR tasks delete -f "$c" >/dev/null 2>&1 || true
        CTR containers delete "$c" >/dev/null 2>&1 || true
        if [ -n "$ns" ] && [ -e "$ns" ]; then umount "$ns" 2>/dev/null; rm -f "$ns"; fi
      done
    fi
  done
  for p in kubelet containerd registry; do
    [ -f "$N/$p.pid" ] || continue
    for _ in $(seq 1 50); do kill -0 "$(cat "$N/$p.pid")" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$(cat "$N/$p.pid")" 2>/dev/null
  done
  # Mounts under the node's directories (overlays, volumes), deepest first.
  awk -v n="$N/" 'index($2, n) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  [ -f "$N/bridge" ] && ip link delete "$(cat "$N/bridge")" 2>/dev/null
  if [ -f "$N/sysctl.saved" ]; then
    while read -r k v; do echo "$v" >"/proc/sys/$k"; done <"$N/sysctl.saved"
  fi
  if [ -f "$N/cgroup" ]; then
    cg=$(cat "$N/cgroup")
    for d in /sys/fs/cgroup/*/"$cg"; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  fi
  return 0
}
if [ "$cmd" = stop ]; then stop_node; exit 0; fi
[ "$cmd" = start ] || die "usage: $0 start|stop WORKDIR"

# ---- what it runs ---------------------------------------------------------------------------
KUBE_BIN=${KUBE_BIN:-$("$HERE/build.sh")}
CRANE=${CRANE:-$ROOT/.data/tools/crane}
for f in /usr/bin/containerd /usr/bin/ctr /usr/sbin/runc /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback; do
  [ -x "$f" ] || die "$f is missing: make node-tools installs Debian's containerd, runc and CNI plugins"
done
[ -x "$CRANE" ] || die "$CRANE is missing: make crane"
[ -x "$KUBE_BIN/kubelet" ] || die "$KUBE_BIN/kubelet is missing: make kube builds it"
[ "$(id -u)" = 0 ] || die "a kubelet and containerd need root"
mkdir -p "$N"/{pki,logs,cni,certs.d/$REGISTRY_NAME,kubelet,pod-logs,volume-plugins,opt,pause}
command -v "${KUBECTL:-kubectl}" >"$N/kubectl" # for stop, which may run without KUBECTL
# If anything below fails, undo what was made.
undo() {
  local rc=$?
  [ "$rc" = 0 ] || { log "start failed; logs in $N/logs"; stop_node; }
}
trap undo EXIT

free_port() {
  local p lo
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  while :; do
    p=$((10000 + RANDOM % (lo - 10000)))
    ss -Htan "( sport = :$p )" | grep -q . || { echo "$p"; return; }
  done
}

# ---- the machine's settings the kubelet changes (its kernel tunables), restored by stop ----------
for k in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
  echo "$k $(cat "/proc/sys/$k")"
done >"$N/sysctl.saved"

# ---- the pods' network: a bridge and a /24 that no route on this machine uses ----------------
# The bridge holds the pods' gateway address, which is also the node's; pods reach only this host
# (isGateway off: the plugin leaves the machine's ip_forward alone).
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
BRIDGE=chub-$id
for _ in $(seq 1 50); do
  a=$((200 + RANDOM % 44)) b=$((RANDOM % 256)) # 10.200-243.x.0/24: kwok's pods use 10.244.0.0/16
  ip -4 route | grep -q "^10\.$a\.$b\." || ip -4 addr | grep -q " 10\.$a\.$b\." || break
done
POD_CIDR=10.$a.$b.0/24 NODE_IP=10.$a.$b.1
ip link add "$BRIDGE" type bridge
echo "$BRIDGE" >"$N/bridge"
ip addr add "$NODE_IP/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
cat >"$N/cni/10-carthub.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "carthub",
  "plugins": [{
    "type": "bridge", "bridge": "$BRIDGE", "isGateway": false, "ipMasq": false, "hairpinMode": true,
    "ipam": {"type": "host-local", "dataDir": "$N/ipam", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
             "routes": [{"dst": "0.0.0.0/0"}]}
  }]
}
EOF
log "bridge $BRIDGE $NODE_IP, pods in $POD_CIDR"

# ---- a cgroup root of its own in every hierarchy ---------------------------------------------
CGROUP=carthub-node-$id
echo "$CGROUP" >"$N/cgroup"
for h in /sys/fs/cgroup/*/; do
  mkdir -p "$h$CGROUP"
  if [ -f "${h}cpuset.cpus" ]; then
    cat "${h}cpuset.cpus" >"$h$CGROUP/cpuset.cpus"
    cat "${h}cpuset.mems" >"$h$CGROUP/cpuset.mems"
  fi
done

# ---- the registry, and the pause image in it ---------------------------------------------------
REG_PORT=$(free_port)
REGISTRY=127.0.0.1:$REG_PORT
nohup "$CRANE" registry serve --address "$REGISTRY" >"$N/logs/registry.log" 2>&1 </dev/null &
echo $! >"$N/registry.pid"
for _ in $(seq 1 100); do curl -sf "http://$REGISTRY/v2/" >/dev/null && break; sleep 0.1; done
curl -sf "http://$REGISTRY/v2/" >/dev/null || die "the registry did not start: $(cat "$N/logs/registry.log")"
(cd "$ROOT/infra" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$N/pause/pause" ./kube/pause)
tar -C "$N/pause" --owner=0 --group=0 -cf "$N/pause.tar" pause
PAUSE=$REGISTRY_NAME/pause:3.10
"$CRANE" append --insecure --platform linux/amd64 -f "$N/pause.tar" -t "$REGISTRY/pause:3.10" >/dev/null 2>&1
"$CRANE" mutate --insecure --entrypoint /pause --set-platform linux/amd64 -t "$REGISTRY/pause:3.10" "$REGISTRY/pause:3.10" >/dev/null 2>&1
cat >"$N/certs.d/$REGISTRY_NAME/hosts.toml" <<EOF
server = "http://$REGISTRY"
[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF
log "registry on $REGISTRY (pods pull $REGISTRY_NAME/...), pause image pushed"

# ---- containerd ---------------------------------------------------------------------------------
cat >"$N/containerd.toml" <<EOF
version = 2
root = "$N/containerd"
state = "$N/containerd-state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$N/containerd.sock"
[ttrpc]
  address = "$N/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$N/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$N/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$N/certs.d"
EOF
nohup /usr/bin/containerd --config "$N/containerd.toml" >"$N/logs/containerd.log" 2>&1 </dev/null &
echo $! >"$N/containerd.pid"
for _ in $(seq 1 100); do ctr --address "$N/containerd.sock" version >/dev/null 2>&1 && break; sleep 0.1; done
ctr --address "$N/containerd.sock" version >/dev/null 2>&1 || die "containerd did not start: $(tail -5 "$N/logs/containerd.log")"
log "containerd $(/usr/bin/containerd --version | awk '{print $3}') on $N/containerd.sock"

# ---- the kubelet: a client certificate from the cluster's CA, a configuration, the node ------------
P=$W/pki
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$N/pki/node.key" -out "$N/pki/node.csr" \
  -subj "/O=system:nodes/CN=system:node:$NODE" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$N/pki/node.ext"
openssl x509 -req -in "$N/pki/node.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 -sha256 \
  -extfile "$N/pki/node.ext" -out "$N/pki/node.crt" 2>/dev/null
API=$(K config view --minify -o jsonpath='{.clusters[0].cluster.server}')
kc() { "${KUBECTL:-kubectl}" --kubeconfig="$N/kubelet.kubeconfig" "$@" >/dev/null; }
kc config set-cluster local --server="$API" --certificate-authority="$P/ca.crt" --embed-certs
kc config set-credentials node --client-certificate="$N/pki/node.crt" --client-key="$N/pki/node.key" --embed-certs
kc config set-context local --cluster=local --user=node
kc config use-context local
KUBELET_PORT=$(free_port) HEALTHZ_PORT=$(free_port)
cat >"$N/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $HEALTHZ_PORT
# The API server's client certificate (from the same CA) for logs; no other client.
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $P/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$N/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
failCgroupV1: false
oomScoreAdj: 0
failSwapOn: false
maxOpenFiles: 20000
podLogsDir: $N/pod-logs
volumePluginDir: $N/volume-plugins
registerWithTaints:
- {key: $TAINT, value: kubelet, effect: NoSchedule}
# The machine's disks are shared: no eviction or image collection because other work fills them.
evictionHard: {memory.available: 1Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 20
# No iptables chains of the kubelet's own in the machine's tables (other work shares them).
makeIPTablesUtilChains: false
EOF
nohup "$KUBE_BIN/kubelet" --config="$N/kubelet.yaml" --kubeconfig="$N/kubelet.kubeconfig" --root-dir="$N/kubelet" \
  --hostname-override="$NODE" --node-ip="$NODE_IP" --node-labels="$TAINT=kubelet" --v=1 \
  >"$N/logs/kubelet.log" 2>&1 </dev/null &
echo $! >"$N/kubelet.pid"
for _ in $(seq 1 600); do
  K get node "$NODE" >/dev/null 2>&1 && break
  kill -0 "$(cat "$N/kubelet.pid")" 2>/dev/null || die "the kubelet exited: $(grep -E '^[EF]' "$N/logs/kubelet.log" | tail -5)"
  sleep 0.1
done
K wait --for=condition=Ready "node/$NODE" --timeout=60s >/dev/null ||
  die "node $NODE not Ready: $(grep -E '^[EF]' "$N/logs/kubelet.log" | tail -5)"
log "node $NODE Ready (kubelet $("$KUBE_BIN/kubelet" --version | awk '{print $2}'))"

# ---- NetworkPolicies: kube-router's policy controller, when KUBE_ROUTER names it ---------------
POLICY_ENGINE=none
if [ -n "${KUBE_ROUTER:-}" ]; then
  [ -x "$KUBE_ROUTER" ] || die "$KUBE_ROUTER is missing: make kube builds it (infra/kube/build-kube-router.sh)"
  for f in iptables iptables-save iptables-restore ipset; do
    command -v "$f" >/dev/null || die "$f is missing: make node-tools installs Debian's iptables and ipset"
  done
  # The runner holds the machine's lock while kube-router runs and until its rules are gone: two
  # controllers would remove each other's chains.
  flock -n "$KUBE_ROUTER_LOCK" true 2>/dev/null || log "another node's kube-router runs on this machine: waiting up to 5 minutes for it to end"
  (
    set +e
    exec 9>"$KUBE_ROUTER_LOCK"
    flock -w 300 9 || { echo "another node's kube-router held $KUBE_ROUTER_LOCK for 5 minutes" >"$N/logs/policy-runner.log"; exit 1; }
    remove_kube_router_rules # what a runner killed with -9 may have left
    "$KUBE_ROUTER" --kubeconfig="$W/admin.kubeconfig" --hostname-override="$NODE" \
      --run-firewall=true --run-router=false --run-service-proxy=false --health-port=0 --metrics-port=0 \
      --service-cluster-ip-range=10.96.0.0/16 --v=1 >"$N/logs/kube-router.log" 2>&1 9>&- &
    echo $! >"$N/kube-router.pid"
    wait $!
    remove_kube_router_rules
  ) </dev/null >>"$N/logs/policy-runner.log" 2>&1 &
  echo $! >"$N/policy-runner.pid"
  # Ready after its first full sync: the chains are in place.
  for _ in $(seq 1 3300); do
    grep -q 'sync iptables took' "$N/logs/kube-router.log" 2>/dev/null && break
    kill -0 "$(cat "$N/policy-runner.pid")" 2>/dev/null ||
      die "kube-router did not start: $(cat "$N/logs/policy-runner.log") $(grep -E '^[EF]' "$N/logs/kube-router.log" 2>/dev/null | tail -5)"
    sleep 0.1
  done
  grep -q 'sync iptables took' "$N/logs/kube-router.log" || die "kube-router did not sync its rules: $(tail -5 "$N/logs/kube-router.log")"
  POLICY_ENGINE="kube-router $("$KUBE_ROUTER" --version 2>&1 | awk '{print $4}' | tr -d ,)"
  log "NetworkPolicies enforced by $POLICY_ENGINE (iptables $(iptables --version | awk '{print $2, $3}' | tr -d '()'), ipset $(ipset version | awk '{print $2}' | tr -d ,))"
fi

cat >>"$W/env.sh" <<EOF
export KUBE_NODE=$NODE
export KUBE_NODE_IP=$NODE_IP
export KUBE_POD_CIDR=$POD_CIDR
export KUBE_REGISTRY=$REGISTRY
export KUBE_REGISTRY_NAME=$REGISTRY_NAME
export CONTAINERD_ADDRESS=$N/containerd.sock
export KUBE_POLICY_ENGINE="$POLICY_ENGINE"
EOF
trap - EXIT
