#!/usr/bin/env bash
# docker/compose.yaml and docker/kubernetes/hcproxy-sidecar.yaml, checked without a cluster: they
# parse, the keys that make the sidecar safe and observable are there (probes, resources, least
# privilege, a grace period longer than the drain), and hcproxy itself accepts the configuration
# they give it (--check-config with their file and environment). compose.sh runs compose.yaml.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
K8S=$ROOT/docker/kubernetes/hcproxy-sidecar.yaml
COMPOSE=$ROOT/docker/compose.yaml
"$PY" -c 'import yaml' 2>/dev/null || { echo "1..0 # SKIP python3-yaml is not installed"; exit 0; }

# facts FILE KIND: what a check needs from FILE, one "name<TAB>value" a line. KIND is k8s or
# compose. For the configuration, the file hcproxy would read is written to $WORK/FILE.conf and
# its environment to $WORK/FILE.env (secrets replaced by a token of the right form).
facts() {
    "$PY" - "$1" "$2" "$WORK" <<'PYEOF'
import os, sys, yaml
path, kind, work = sys.argv[1], sys.argv[2], sys.argv[3]
name = os.path.basename(path)
docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
out = {}
def fact(k, v):
    out[k] = v if isinstance(v, str) else yaml.safe_dump(v, default_flow_style=True).strip()
TOKEN = "t0ken-of-the-right-form-0123456789"

def k8s():
    by_kind = {d["kind"]: d for d in docs}
    fact("kinds", ",".join(sorted(by_kind)))
    dep = by_kind["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    fact("selector matches the pod", str(dep["spec"]["selector"]["matchLabels"].items()
                                       <= dep["spec"]["template"]["metadata"]["labels"].items()))
    c = {x["name"]: x for x in pod["containers"]}
    hc = c["hcproxy"]
    ports = {p["name"]: p["containerPort"] for p in hc.get("ports", [])}
    for probe in ("livenessProbe", "readinessProbe"):
        g = hc[probe]["httpGet"]
        fact(probe, "%s %s" % (g["path"], ports.get(g["port"], g["port"])))
    res = hc["resources"]
    fact("resources", " ".join(sorted("%s.%s" % (a, b) for a in res for b in res[a])))
    sc = hc["securityContext"]
    for key in ("runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation"):
        fact(key, str(sc.get(key)))
    fact("capabilities.drop", ",".join(sc.get("capabilities", {}).get("drop", [])))
    fact("pod runAsNonRoot", str(pod.get("securityContext", {}).get("runAsNonRoot")))
    fact("grace", str(pod.get("terminationGracePeriodSeconds", 30)))
    svc = by_kind["Service"]
    fact("service ports", ",".join(str(p["targetPort"]) for p in svc["spec"]["ports"]))
    fact("hcproxy port", ",".join(ports))
    # the configuration: the ConfigMap's file where --config points, and the environment
    mounts = {m["name"]: m["mountPath"] for m in hc.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    args = hc.get("args", [])
    cfg_path = args[args.index("--config") + 1]
    files = {}
    for vname, mpath in mounts.items():
        cm = by_kind["ConfigMap"] if vols[vname]["configMap"]["name"] == by_kind["ConfigMap"]["metadata"]["name"] else None
        for key, text in (cm or {}).get("data", {}).items():
            files[os.path.join(mpath, key)] = text
    fact("--config names a ConfigMap file", str(cfg_path in files))
    open(os.path.join(work, name + ".conf"), "w").write(files.get(cfg_path, ""))
    env = []
    for e in hc.get("env", []):
        if "value" in e and not isinstance(e["value"], str):
            fact("non-string env " + e["name"], repr(e["value"]))
        env.append("%s=%s" % (e["name"], e.get("value", TOKEN)))
    open(os.path.join(work, name + ".env"), "w").write("\n".join(env) + "\n")

def compose():
    svc = docs[0]["services"]
    hc = svc["hcproxy"]
    fact("network_mode", hc.get("network_mode", ""))
    fact("read_only", str(hc.get("read_only")))
    fact("cap_drop", ",".join(hc.get("cap_drop", [])))
    fact("user", str(hc.get("user")))
    fact("no-new-privileges", str("no-new-privileges:true" in hc.get("security_opt", [])))
    fact("ports", str("ports" in hc))
    g = hc.get("stop_grace_period", "10s")
    fact("grace", str(int(g[:-1]) * (60 if g.endswith("m") else 1)))
    env = hc.get("environment", {})
    fact("listen", env.get("HCPROXY_HTTP_LISTEN", ""))
    open(os.path.join(work, name + ".conf"), "w").write("")
    open(os.path.join(work, name + ".env"), "w").write("".join("%s=%s\n" % kv for kv in env.items()))

k8s() if kind == "k8s" else compose()
for k, v in out.items():
    print("%s\t%s" % (k, v))
PYEOF
}
declare -A F
# load FILE KIND: fills F with the facts of FILE.
load() {
    local k v
    F=()
    while IFS=$'\t' read -r k v; do F[$k]=$v; done < <(facts "$1" "$2")
}
# check_config NAME: hcproxy --check-config with the file and environment facts() wrote.
check_config() {
    local conf=$WORK/$1.conf envs=()
    mapfile -t envs <"$WORK/$1.env"
    env -i "${envs[@]}" "$HCPROXY" $([ -s "$conf" ] && echo --config "$conf") --check-config 2>&1
}
# drain_s OUTPUT: drain.delay_s + drain.timeout_s in --check-config's OUTPUT.
drain_s() {
    local delay timeout
    delay=$(sed -n 's/^    delay_s = \([0-9]*\);.*/\1/p' <<<"$1")
    timeout=$(sed -n 's/^    timeout_s = \([0-9]*\);.*/\1/p' <<<"$1")
    echo $((delay + timeout))
}

# ---- Kubernetes -----------------------------------------------------------------------------
load "$K8S" k8s
expect_eq "the Kubernetes example holds a ConfigMap, a Deployment and a Service" \
    "ConfigMap,Deployment,Service" "${F[kinds]}"
expect_eq "... whose selector matches the pod's labels" "True" "${F[selector matches the pod]}"
expect_eq "hcproxy's liveness probe is GET /healthz on its port" "/healthz 8080" "${F[livenessProbe]}"
expect_eq "... its readiness probe GET /readyz" "/readyz 8080" "${F[readinessProbe]}"
expect_eq "... it has CPU and memory requests and limits" \
    "limits.cpu limits.memory requests.cpu requests.memory" "${F[resources]}"
expect_eq "... runs as non-root" "True True" "${F[runAsNonRoot]} ${F[pod runAsNonRoot]}"
expect_eq "... on a read-only root file system" "True" "${F[readOnlyRootFilesystem]}"
expect_eq "... without privilege escalation" "False" "${F[allowPrivilegeEscalation]}"
expect_eq "... with every capability dropped" "ALL" "${F[capabilities.drop]}"
expect_eq "... every environment value a string" "" \
    "$(for k in "${!F[@]}"; do [[ $k == non-string* ]] && echo "$k"; done)"
expect_eq "the Service publishes the application's port, not hcproxy's" "http" "${F[service ports]}"
expect_eq "--config names the file the ConfigMap mounts" "True" "${F[--config names a ConfigMap file]}"
out=$(check_config hcproxy-sidecar.yaml)
expect_match "hcproxy --check-config accepts the Deployment's file and environment" "configuration OK" "$out"
expect_match "... which allows the example's CoAP network only" 'allow = \[ "coap://192.0.2.0/24" \]; # .*\.conf:[0-9]+' "$out"
expect_match "... and sets bearer tokens, since the probes need a non-loopback listener" \
    "bearer_tokens = \[ \] /\* 1 set" "$out"
expect_eq "terminationGracePeriodSeconds outlasts drain.delay_s + drain.timeout_s" "1" \
    "$(( F[grace] > $(drain_s "$out") ))"

# ---- docker compose -------------------------------------------------------------------------
load "$COMPOSE" compose
expect_eq "compose: hcproxy shares the application's network namespace" "service:app" "${F[network_mode]}"
expect_eq "... publishes no port of its own" "False" "${F[ports]}"
expect_eq "... listens on loopback only" "127.0.0.1:8080" "${F[listen]}"
expect_eq "... read-only, every capability dropped, no new privileges" "True ALL True" \
    "${F[read_only]} ${F[cap_drop]} ${F[no-new-privileges]}"
expect_eq "... as uid 10001" "10001:10001" "${F[user]}"
out=$(check_config compose.yaml)
expect_match "hcproxy --check-config accepts the compose file's environment" "configuration OK" "$out"
expect_eq "stop_grace_period outlasts drain.delay_s + drain.timeout_s" "1" \
    "$(( F[grace] > $(drain_s "$out") ))"
if command -v docker-compose >/dev/null; then
    status=0; err=$(docker-compose -f "$COMPOSE" config -q 2>&1) || status=$?
    expect_eq "docker-compose config validates compose.yaml" "0" "$status${err:+: $err}"
fi

done_testing
