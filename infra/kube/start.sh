#!/usr/bin/env bash
# Starts a Kubernetes control plane for the cluster tests: etcd, kube-apiserver (RBAC, Pod Security
# admission, service-account tokens), kube-controller-manager and kube-scheduler as built by
# build.sh, and kwok, which plays the nodes and the pods' lifecycle (stages.yaml) where no kubelet
# runs. Everything listens on 127.0.0.1 with TLS from a throwaway CA, in WORKDIR.
#
#   start.sh [WORKDIR]      prints WORKDIR; WORKDIR/env.sh sets KUBECONFIG (cluster-admin)
#
# Environment: KUBE_BIN (default: what build.sh prints), KUBECTL (default: kubectl on PATH),
# NODES ("name:arch ...", default "kwok-arm64:arm64 kwok-amd64:amd64"), NODE_MEMORY (8Gi),
# WATCH_PID (a process whose end stops the control plane: the test binary, so that a panic or a
# kill does not leave it running). Stop with stop.sh WORKDIR.
set -euo pipefail
T0=$(date +%s.%N)
HERE=$(cd "$(dirname "$0")" && pwd)
KUBE_BIN=${KUBE_BIN:-$("$HERE/build.sh")}
KUBECTL=${KUBECTL:-kubectl}
STAGES=$HERE/stages.yaml
NODE_MEMORY=${NODE_MEMORY:-8Gi}
NODES=${NODES:-"kwok-arm64:arm64 kwok-amd64:amd64"}
W=${1:-$(mktemp -d /tmp/kube.XXXXXX)}
mkdir -p "$W"/{pki,logs,etcd-data}
chmod 700 "$W/etcd-data" "$W/pki"
W=$(cd "$W" && pwd)
P=$W/pki
: >"$W/pids"
STARTED_OK=0
# on any failure: kill what we started (by pid), keep WORKDIR for the logs
cleanup() { [[ $STARTED_OK == 1 ]] && return; while read -r _ pid; do kill "$pid" 2>/dev/null; done <"$W/pids"; echo "start failed; logs in $W/logs" >&2; }
trap cleanup EXIT

log() { awk -v t0="$T0" -v t1="$(date +%s.%N)" -v m="$*" 'BEGIN{printf "[%6.2fs] %s\n", t1-t0, m}' >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- free ports on 127.0.0.1 -------------------------------------------------
USED_PORTS=" "
free_port() {
  local p
  while :; do
    # Below the kernel's ephemeral range (ip_local_port_range), where no outgoing connection
    # takes the port between this check and the server's bind.
    lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    p=$(( 10000 + RANDOM % (lo - 10000) ))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if ! ss -Htan "( sport = :$p )" | grep -q .; then USED_PORTS+="$p "; echo "$p"; return; fi
  done
}
ETCD_PORT=$(free_port); ETCD_PEER_PORT=$(free_port); ETCD_METRICS_PORT=$(free_port)
API_PORT=$(free_port); KCM_PORT=$(free_port); SCHED_PORT=$(free_port); KWOK_PORT=$(free_port)
API=https://127.0.0.1:$API_PORT

# ---- PKI ---------------------------------------------------------------------
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 3650 \
  -subj "/CN=carthub-kube-ca" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
# cert NAME SUBJECT EKU [SAN]
cert() {
  local n=$1 subj=$2 eku=$3 san=${4:-}
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$P/$n.key" -out "$P/$n.csr" -subj "$subj"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    [[ -n $san ]] && echo "subjectAltName=$san"
  } >"$P/$n.ext"
  ossl x509 -req -in "$P/$n.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$P/$n.ext" -out "$P/$n.crt"
  rm -f "$P/$n.csr" "$P/$n.ext"
}
LOCAL_SAN="IP:127.0.0.1,DNS:localhost"
cert etcd-server "/CN=etcd-server" serverAuth,clientAuth "$LOCAL_SAN"
cert apiserver-etcd-client "/CN=kube-apiserver-etcd-client" clientAuth
cert apiserver "/CN=kube-apiserver" serverAuth \
  "$LOCAL_SAN,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert apiserver-kubelet-client "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" clientAuth
cert admin "/O=system:masters/CN=kubernetes-admin" clientAuth
cert controller-manager "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kwok "/CN=kwok-controller" clientAuth
cert kwok-serving "/CN=kwok-serving" serverAuth "$LOCAL_SAN"
cert controller-manager-serving "/CN=kube-controller-manager" serverAuth "$LOCAL_SAN"
cert scheduler-serving "/CN=kube-scheduler" serverAuth "$LOCAL_SAN"
# front-proxy (aggregation layer / requestheader) CA; without it kcm+scheduler delegated authn keeps
# logging "missing content for CA bundle ...requestheader-client-ca-file"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$P/front-proxy-ca.key" -out "$P/front-proxy-ca.crt" -days 3650 \
  -subj "/CN=carthub-front-proxy-ca" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$P/front-proxy-client.key" -out "$P/front-proxy-client.csr" -subj "/CN=front-proxy-client"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$P/fp.ext"
ossl x509 -req -in "$P/front-proxy-client.csr" -CA "$P/front-proxy-ca.crt" -CAkey "$P/front-proxy-ca.key" -CAcreateserial \
  -days 365 -sha256 -extfile "$P/fp.ext" -out "$P/front-proxy-client.crt"
rm -f "$P/front-proxy-client.csr" "$P/fp.ext"
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/sa.key"   # ES256 service-account tokens
ossl pkey -in "$P/sa.key" -pubout -out "$P/sa.pub"
chmod 600 "$P"/*.key
log "pki generated"

kubeconfig() { # NAME CERTNAME
  local f=$W/$1.kubeconfig
  "$KUBECTL" config set-cluster local --server="$API" --certificate-authority="$P/ca.crt" --embed-certs --kubeconfig="$f" >/dev/null
  "$KUBECTL" config set-credentials "$1" --client-certificate="$P/$2.crt" --client-key="$P/$2.key" --embed-certs --kubeconfig="$f" >/dev/null
  "$KUBECTL" config set-context local --cluster=local --user="$1" --kubeconfig="$f" >/dev/null
  "$KUBECTL" config use-context local --kubeconfig="$f" >/dev/null
}
kubeconfig admin admin
kubeconfig controller-manager controller-manager
kubeconfig scheduler scheduler
kubeconfig kwok kwok
K() { "$KUBECTL" --kubeconfig="$W/admin.kubeconfig" "$@"; }

start() { # NAME CMD...
  local n=$1; shift
  nohup "$@" >"$W/logs/$n.log" 2>&1 </dev/null &
  echo "$n $!" >>"$W/pids"
}
wait_https() { # NAME URL TIMEOUT_S
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if curl -sf --max-time 2 --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" "$2" >/dev/null 2>&1; then
      log "$1 healthy"; return 0; fi
    sleep 0.1
  done
  tail -20 "$W/logs/$1.log" >&2 || true
  die "$1 not healthy after $3 s"
}

# ---- etcd --------------------------------------------------------------------
start etcd "$KUBE_BIN/etcd" --name=kube --data-dir="$W/etcd-data" \
  --listen-client-urls="https://127.0.0.1:$ETCD_PORT" --advertise-client-urls="https://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="kube=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state=new \
  --listen-metrics-urls="http://127.0.0.1:$ETCD_METRICS_PORT" \
  --cert-file="$P/etcd-server.crt" --key-file="$P/etcd-server.key" \
  --client-cert-auth --trusted-ca-file="$P/ca.crt" \
  --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) --snapshot-count=10000 \
  --heartbeat-interval=20 --election-timeout=200 \
  --unsafe-no-fsync --log-level=warn
wait_https etcd "http://127.0.0.1:$ETCD_METRICS_PORT/health" 30

# ---- kube-apiserver ------------------------------------------------------------
start kube-apiserver "$KUBE_BIN/kube-apiserver" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --etcd-servers="https://127.0.0.1:$ETCD_PORT" --etcd-cafile="$P/ca.crt" \
  --etcd-certfile="$P/apiserver-etcd-client.crt" --etcd-keyfile="$P/apiserver-etcd-client.key" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" \
  --requestheader-client-ca-file="$P/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$P/front-proxy-client.crt" --proxy-client-key-file="$P/front-proxy-client.key" \
  --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" --kubelet-client-key="$P/apiserver-kubelet-client.key" \
  --authorization-mode=Node,RBAC --kubelet-preferred-address-types=InternalIP \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --endpoint-reconciler-type=none \
  --allow-privileged=true \
  --profiling=false
wait_https kube-apiserver "$API/readyz" 90

# ---- controller-manager / scheduler ------------------------------------------
start kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --tls-cert-file="$P/controller-manager-serving.crt" --tls-private-key-file="$P/controller-manager-serving.key" \
  --kubeconfig="$W/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$W/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$W/controller-manager.kubeconfig" \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --leader-elect=false --profiling=false
start kube-scheduler "$KUBE_BIN/kube-scheduler" \
  --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
  --tls-cert-file="$P/scheduler-serving.crt" --tls-private-key-file="$P/scheduler-serving.key" \
  --kubeconfig="$W/scheduler.kubeconfig" \
  --authentication-kubeconfig="$W/scheduler.kubeconfig" \
  --authorization-kubeconfig="$W/scheduler.kubeconfig" \
  --leader-elect=false --profiling=false

# ---- kwok ----------------------------------------------------------------------
# kwok needs: nodes + nodes/status, pods + pods/status (update, delete), leases, events.
K apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kwok-controller}
rules:
- apiGroups: [""]
  resources: [nodes, nodes/status, pods, pods/status]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch, update]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch, update]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kwok-controller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kwok-controller}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: kwok-controller}
EOF
# What `kubectl logs` shows for a pod kwok runs: one line, the same for every container, in the
# CRI log format kwok serves.
echo "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z) stdout F {\"level\":\"INFO\",\"msg\":\"simulated by kwok: no migrator ran\"}" >"$W/pod.log"
cat >"$W/logs.yaml" <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: every-pod}
spec:
  logs:
  - containers: []
    logsFile: $W/pod.log
EOF
start kwok "$KUBE_BIN/kwok" --kubeconfig="$W/kwok.kubeconfig" --config="$STAGES" --config="$W/logs.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-ip=127.0.0.1 --node-name=kwok-controller --cidr=10.244.0.0/16 \
  --node-port="$KWOK_PORT" --server-address="127.0.0.1:$KWOK_PORT" \
  --tls-cert-file="$P/kwok-serving.crt" --tls-private-key-file="$P/kwok-serving.key" \
  --node-lease-duration-seconds=40

wait_https kube-controller-manager "https://127.0.0.1:$KCM_PORT/healthz" 60
wait_https kube-scheduler "https://127.0.0.1:$SCHED_PORT/healthz" 60

# ---- fake nodes ----------------------------------------------------------------
for spec in $NODES; do
  name=${spec%%:*} arch=${spec##*:}
  K apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: $arch
    kubernetes.io/os: linux
    kubernetes.io/hostname: $name
    type: kwok
spec: {}
status:
  allocatable: {cpu: "4", memory: $NODE_MEMORY, pods: "110", ephemeral-storage: 100Gi}
  capacity: {cpu: "4", memory: $NODE_MEMORY, pods: "110", ephemeral-storage: 100Gi}
  nodeInfo: {architecture: $arch, operatingSystem: linux}
EOF
done
K wait --for=condition=Ready node --all --timeout=60s >/dev/null
log "nodes Ready: $(K get nodes -o name | tr '\n' ' ')"

# default ServiceAccount must exist before pods can be created in a namespace
for i in $(seq 1 300); do K -n default get sa default >/dev/null 2>&1 && break; sleep 0.1; done
K -n default get sa default >/dev/null || die "default ServiceAccount not created by kube-controller-manager"
log "default ServiceAccount present"

cat >"$W/env.sh" <<EOF
export KUBECONFIG=$W/admin.kubeconfig
export KUBE_WORKDIR=$W
export KUBE_API=$API
EOF
STARTED_OK=1
if [ -n "${WATCH_PID:-}" ]; then
  # shellcheck disable=SC2016 # the inner shell expands its own arguments
  nohup bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; "$2/stop.sh" "$3"' watch "$WATCH_PID" "$HERE" "$W" >/dev/null 2>&1 </dev/null &
fi
log "ready: source $W/env.sh"
echo "$W"
