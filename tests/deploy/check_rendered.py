"""The chart's rendered objects, read back and checked (tests/deploy/chart-test.sh).

    check_rendered.py split RENDERED.yaml OUTDIR
        one file per object: core-NN-<kind>-<name>.yaml (for kubernetes-validate)
        or crd-NN-<kind>-<name>.json (KEDA, Prometheus Operator: for
        validate-crds.mjs); prints what it wrote.
    check_rendered.py break OBJECTS_DIR OUTDIR
        copies of a Deployment and a ScaledObject of OBJECTS_DIR, each with
        one mistake, that the validators must refuse (they are seen to bite).
    check_rendered.py check RENDERED.yaml VALUES.yaml
        the assertions below, against the chart's values.yaml merged with
        VALUES.yaml; prints each failure, then "N checks" or exits 1.

Only PyYAML beyond the standard library.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "scimbus"
SERVICES = ("ingress", "store", "outbound")
# API groups whose objects kubernetes-validate has no schema for, and the npm
# package whose schemas check them instead (validate-crds.mjs).
CRD_GROUPS = {"keda.sh", "monitoring.coreos.com"}
# The metadata each KEDA trigger type takes (keda.sh/docs/scalers): the
# ScaledObject schema leaves trigger metadata free, so a misspelt key would
# pass it.
TRIGGER_KEYS = {
    "nats-jetstream": {
        "natsServerMonitoringEndpoint", "account", "stream", "consumer",
        "lagThreshold", "activationLagThreshold", "useHttps",
    },
    "prometheus": {
        "serverAddress", "query", "threshold", "activationThreshold",
        "namespace", "customHeaders", "ignoreNullValues", "queryParameters",
        "unsafeSsl", "timeout",
    },
}
HOOK = "helm.sh/hook"
HOOK_WEIGHT = "helm.sh/hook-weight"
HOOK_DELETE = "helm.sh/hook-delete-policy"


def load_all(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def group_of(obj: dict) -> str:
    api = obj.get("apiVersion", "")
    return api.split("/")[0] if "/" in api else ""


def split(rendered: str, outdir: str) -> int:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    kinds: dict[str, int] = {}
    crds = 0
    for i, obj in enumerate(load_all(rendered)):
        name = f"{i:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}"
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
        if group_of(obj) in CRD_GROUPS:
            (out / f"crd-{name}.json").write_text(json.dumps(obj, indent=1))
            crds += 1
        else:
            (out / f"core-{name}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False))
    total = sum(kinds.values())
    if not total:
        print("no object rendered", file=sys.stderr)
        return 1
    print(f"{total} objects ({total - crds} core, {crds} CRD)")
    return 0


def broken(objects: str, outdir: str) -> int:
    """A Deployment with a misspelt probe field and a ScaledObject with a
    string where an integer goes."""
    src, out = Path(objects), Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    dep = next(src.glob("core-*-deployment-*.yaml"), None)
    so = next(src.glob("crd-*-scaledobject-*.json"), None)
    if dep is None or so is None:
        print(f"{objects} lacks a Deployment or a ScaledObject to break", file=sys.stderr)
        return 1
    d = yaml.safe_load(dep.read_text())
    probe = d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]
    probe["paht"] = probe.pop("path")
    (out / "core-broken-deployment.yaml").write_text(yaml.safe_dump(d))
    s = json.loads(so.read_text())
    s["spec"]["minReplicaCount"] = "two"
    (out / "crd-broken-scaledobject.json").write_text(json.dumps(s))
    return 0


def merge(base: dict, over: dict) -> dict:
    """Helm's merge of a values file over values.yaml (null deletes a key)."""
    out = dict(base)
    for k, v in (over or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def decoded(secret: dict) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    data.update(secret.get("stringData") or {})
    return data


def matches(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def selects(selector: dict, labels: dict) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels."""
    ok = all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())
    for e in selector.get("matchExpressions") or []:
        have = e["key"] in labels
        value = labels.get(e["key"])
        op = e["operator"]
        ok = ok and {
            "In": have and value in e.get("values", []),
            "NotIn": not have or value not in e.get("values", []),
            "Exists": have,
            "DoesNotExist": not have,
        }[op]
    return ok and bool(selector.get("matchLabels") or selector.get("matchExpressions"))


class Checks:
    def __init__(self) -> None:
        self.count = 0
        self.failures: list[str] = []

    def that(self, ok: bool, what: str) -> bool:
        self.count += 1
        if not ok:
            self.failures.append(what)
        return ok


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env") or []}


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def check(rendered: str, values_file: str) -> int:
    objs = load_all(rendered)
    with open(CHART / "values.yaml", encoding="utf-8") as f:
        defaults = yaml.safe_load(f)
    with open(values_file, encoding="utf-8") as f:
        profile = yaml.safe_load(f) or {}
    values = merge(defaults, profile)
    c = Checks()

    by_kind: dict[str, list[dict]] = {}
    for o in objs:
        by_kind.setdefault(o["kind"], []).append(o)
    deployments = by_kind.get("Deployment", [])
    services = by_kind.get("Service", [])
    secrets = by_kind.get("Secret", [])
    configmaps = by_kind.get("ConfigMap", [])
    jobs = by_kind.get("Job", [])
    secret_data = {s["metadata"]["name"]: decoded(s) for s in secrets}
    deploy_by_name = {d["metadata"]["name"]: d for d in deployments}

    # --- one Deployment per service, each what its service needs -------------
    component_of: dict[str, str] = {}
    for d in deployments:
        comp = d["metadata"]["labels"].get("app.kubernetes.io/component", "")
        component_of[d["metadata"]["name"]] = comp
    c.that(sorted(component_of.values()) == sorted(SERVICES),
           f"one Deployment per service {SERVICES}: got {sorted(component_of.values())}")
    addr_port: dict[str, int] = {}
    partitions: dict[str, str] = {}
    for d in deployments:
        name = d["metadata"]["name"]
        comp = component_of[name]
        sel = d["spec"]["selector"].get("matchLabels") or {}
        tmpl_labels = d["spec"]["template"]["metadata"].get("labels") or {}
        c.that(matches(sel, tmpl_labels),
               f"Deployment {name}: selector {sel} does not match its pod labels {tmpl_labels}")
        spec = pod_spec(d)
        c.that(spec.get("automountServiceAccountToken") is False,
               f"Deployment {name}: automountServiceAccountToken is not false")
        c.that("checksum/config" in (d["spec"]["template"]["metadata"].get("annotations") or {}),
               f"Deployment {name}: no checksum/config annotation (config changes would not roll it)")
        grace = spec.get("terminationGracePeriodSeconds")
        containers = spec["containers"]
        c.that(len(containers) == 1, f"Deployment {name}: {len(containers)} containers, want 1")
        ct = containers[0]
        env = env_of(ct)
        c.that(ct.get("command") == [f"/bin/scimbus-{comp}"],
               f"Deployment {name}: command {ct.get('command')}, want /bin/scimbus-{comp}")
        # The port: SCIMBUS_<SERVICE>_ADDR, the container's port, the probes.
        addr_name = f"SCIMBUS_{comp.upper()}_ADDR"
        addr = env.get(addr_name, {}).get("value", "")
        m = re.fullmatch(r"0\.0\.0\.0:(\d+)", addr)
        if c.that(m is not None, f"Deployment {name}: {addr_name}={addr!r}, want 0.0.0.0:<port>"):
            addr_port[comp] = int(m.group(1))
        ports = {p.get("name"): p["containerPort"] for p in ct.get("ports") or []}
        numbers = set(ports.values())
        c.that(addr_port.get(comp) in numbers,
               f"Deployment {name}: {addr_name} port {addr_port.get(comp)} is no declared containerPort {sorted(numbers)}")
        for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz"),
                            ("startupProbe", "/livez")):
            p = (ct.get(probe) or {}).get("httpGet")
            if not c.that(p is not None, f"Deployment {name}: no {probe} httpGet"):
                continue
            c.that(p.get("path") == path, f"Deployment {name}: {probe} path {p.get('path')}, want {path}")
            port = p.get("port")
            number = ports.get(port) if isinstance(port, str) else port
            c.that(number in numbers,
                   f"Deployment {name}: {probe} port {port!r} names or numbers no declared port {ports}")
            c.that(number == addr_port.get(comp),
                   f"Deployment {name}: {probe} port {number} is not the {addr_name} port {addr_port.get(comp)}")
        # Draining ends before the kubelet kills.
        drain = env.get("SCIMBUS_DRAIN_SECS", {}).get("value")
        c.that(drain is not None and grace is not None and int(drain) < int(grace),
               f"Deployment {name}: SCIMBUS_DRAIN_SECS={drain} not below terminationGracePeriodSeconds={grace}")
        if comp in ("ingress", "store"):
            partitions[comp] = env.get("SCIMBUS_PARTITIONS", {}).get("value")
        # The configuration file is where SCIMBUS_CONFIG says, from the ConfigMap.
        cfg_path = env.get("SCIMBUS_CONFIG", {}).get("value")
        mounts = {m["mountPath"]: m for m in ct.get("volumeMounts") or []}
        vols = {v["name"]: v for v in spec.get("volumes") or []}
        mnt = mounts.get(cfg_path)
        cm_name = ((vols.get(mnt["name"]) or {}).get("configMap") or {}).get("name") if mnt else None
        c.that(cm_name in {m["metadata"]["name"] for m in configmaps},
               f"Deployment {name}: SCIMBUS_CONFIG={cfg_path} is not mounted from a rendered ConfigMap")
        nats = env.get("SCIMBUS_NATS_URL", {}).get("value", "")
        c.that(nats.split(",") == list(values["nats"]["urls"]),
               f"Deployment {name}: SCIMBUS_NATS_URL={nats!r}, want the values' nats.urls")
        creds = env.get("SCIMBUS_NATS_CREDS_FILE", {}).get("value")
        if creds:
            c.that(any(creds.startswith(p.rstrip("/") + "/") for p in mounts),
                   f"Deployment {name}: SCIMBUS_NATS_CREDS_FILE={creds} is under no volume mount")
        key = env.get("SCIMBUS_EVENTS_SIGNING_KEY", {}).get("value")
        if key:
            c.that(key.startswith("file:/") and any(key[5:].startswith(p.rstrip("/") + "/") for p in mounts),
                   f"Deployment {name}: SCIMBUS_EVENTS_SIGNING_KEY={key} is no file: under a volume mount")
        # References to the chart's own Secrets name keys those Secrets hold.
        for e in ct.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["name"] in secret_data:
                c.that(ref["key"] in secret_data[ref["name"]],
                       f"Deployment {name}: {e['name']} names key {ref['key']} that Secret {ref['name']} lacks")
        for ef in ct.get("envFrom") or []:
            ref = ef.get("secretRef") or ef.get("configMapRef")
            if ref and ef.get("secretRef") and not ref.get("optional"):
                c.that(ref["name"] in secret_data or ref["name"] in existing_secrets(values),
                       f"Deployment {name}: envFrom Secret {ref['name']} is neither rendered nor a values' existing Secret")
        # File references of the configuration are mounted.
        for path in re.findall(r'"file:(/[^"]+)"', config_text(values)):
            c.that(any(path.startswith(p.rstrip("/") + "/") for p in mounts),
                   f"Deployment {name}: config references file:{path}, under no volume mount")

    c.that(set(partitions) == {"ingress", "store"} and partitions["ingress"] is not None
           and partitions["ingress"] == partitions["store"],
           f"SCIMBUS_PARTITIONS differs between the ingress and the store: {partitions}")
    c.that(partitions.get("store") == str(values["partitions"]),
           f"SCIMBUS_PARTITIONS {partitions.get('store')} is not the values' partitions {values['partitions']}")

    # --- Services, PDBs and the ServiceMonitor select the right pods ---------
    pod_labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deploy_by_name.items()}
    for s in services:
        name = s["metadata"]["name"]
        hits = [n for n, labels in pod_labels.items() if matches(s["spec"].get("selector") or {}, labels)]
        if c.that(len(hits) == 1, f"Service {name}: selects the pods of {hits}, want exactly one Deployment"):
            d = deploy_by_name[hits[0]]
            ct = pod_spec(d)["containers"][0]
            ports = {p.get("name"): p["containerPort"] for p in ct.get("ports") or []}
            for p in s["spec"]["ports"]:
                target = p.get("targetPort", p["port"])
                number = ports.get(target) if isinstance(target, str) else target
                c.that(number == addr_port.get(component_of[hits[0]]),
                       f"Service {name}: port {p.get('name')} targets {target!r}, not the container's listening port")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        name = pdb["metadata"]["name"]
        hits = [n for n, labels in pod_labels.items() if selects(pdb["spec"]["selector"], labels)]
        c.that(len(hits) == 1, f"PodDisruptionBudget {name}: selects {hits}, want one Deployment")
        c.that(("minAvailable" in pdb["spec"]) != ("maxUnavailable" in pdb["spec"]),
               f"PodDisruptionBudget {name}: wants exactly one of minAvailable / maxUnavailable")
    for svc in SERVICES:
        want = values[svc]["pdb"]["enabled"]
        have = any(pdb["metadata"]["labels"].get("app.kubernetes.io/component") == svc
                   for pdb in by_kind.get("PodDisruptionBudget", []))
        c.that(want == have, f"{svc}: pdb.enabled is {want} but a PodDisruptionBudget is {'' if have else 'not '}rendered")
    for sm in by_kind.get("ServiceMonitor", []):
        name = sm["metadata"]["name"]
        hits = sorted(s["metadata"]["name"] for s in services
                      if selects(sm["spec"]["selector"], s["metadata"].get("labels") or {}))
        c.that(len(hits) == 3, f"ServiceMonitor {name}: selects Services {hits}, want the three")
        ports = {ep.get("port") for ep in sm["spec"]["endpoints"]}
        for s in services:
            names = {p.get("name") for p in s["spec"]["ports"]}
            c.that(ports <= names, f"ServiceMonitor {name}: endpoint ports {ports} not all on Service {s['metadata']['name']}")
        c.that(all(ep.get("path") == "/metrics" for ep in sm["spec"]["endpoints"]),
               f"ServiceMonitor {name}: an endpoint does not scrape /metrics")
    c.that(bool(by_kind.get("ServiceMonitor")) == bool(values["serviceMonitor"]["enabled"]),
           "serviceMonitor.enabled and the ServiceMonitor rendered disagree")
    for ing in by_kind.get("Ingress", []):
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                b = p["backend"]["service"]
                s = next((s for s in services if s["metadata"]["name"] == b["name"]), None)
                c.that(s is not None and b["port"].get("name") in {q.get("name") for q in s["spec"]["ports"]},
                       f"Ingress {ing['metadata']['name']}: backend {b} is no rendered Service port")

    # --- autoscaling: HPA or ScaledObject, never both ------------------------
    scaled: dict[str, list[str]] = {}
    for kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        for o in by_kind.get(kind, []):
            ref = o["spec"]["scaleTargetRef"]
            c.that(ref.get("kind", "Deployment") == "Deployment" and ref["name"] in deploy_by_name,
                   f"{kind} {o['metadata']['name']}: scaleTargetRef {ref} names no rendered Deployment")
            scaled.setdefault(ref["name"], []).append(kind)
            if kind == "HorizontalPodAutoscaler":
                d = deploy_by_name.get(ref["name"])
                req = ((pod_spec(d)["containers"][0].get("resources") or {}).get("requests") or {}) if d else {}
                c.that("cpu" in req, f"HPA {o['metadata']['name']}: its Deployment requests no CPU")
            else:
                for t in o["spec"]["triggers"]:
                    extra = set(t.get("metadata") or {}) - TRIGGER_KEYS.get(t["type"], set())
                    c.that(t["type"] in TRIGGER_KEYS and not extra,
                           f"ScaledObject {o['metadata']['name']}: trigger {t['type']} has unknown metadata {sorted(extra)}")
    for name, kinds in scaled.items():
        c.that(len(kinds) == 1, f"Deployment {name} is scaled by {kinds}: want one autoscaler at most")
        c.that("replicas" not in deploy_by_name[name]["spec"],
               f"Deployment {name}: sets replicas though {kinds[0]} scales it (each upgrade would reset it)")
    store = next((d for d in deployments if component_of[d["metadata"]["name"]] == "store"), None)
    for o in by_kind.get("ScaledObject", []):
        jets = [t for t in o["spec"]["triggers"] if t["type"] == "nats-jetstream"]
        if not jets:
            continue
        n = int(values["partitions"])
        consumers = sorted(t["metadata"]["consumer"] for t in jets)
        c.that(consumers == sorted(f"store-p{i}" for i in range(n)),
               f"ScaledObject {o['metadata']['name']}: consumers {consumers}, want store-p0..store-p{n - 1}")
        prefix = env_of(pod_spec(store)["containers"][0]).get("SCIMBUS_BUS_PREFIX", {}).get("value", "") if store else ""
        stream = (prefix.upper().replace("-", "_") + "_" if prefix else "") + "SCIMBUS_CMD"
        c.that(all(t["metadata"]["stream"] == stream for t in jets),
               f"ScaledObject {o['metadata']['name']}: stream is not {stream} (SCIMBUS_BUS_PREFIX={prefix!r})")
        c.that(o["spec"]["scaleTargetRef"]["name"] == (store or {}).get("metadata", {}).get("name"),
               "the nats-jetstream ScaledObject does not scale the store")

    # --- migrations ---------------------------------------------------------
    migrate = [j for j in jobs if pod_spec(j)["containers"][0].get("command") == ["/bin/scimbus", "migrate"]]
    c.that(len(migrate) == (1 if values["migrations"]["enabled"] else 0),
           f"{len(migrate)} migration Jobs with migrations.enabled={values['migrations']['enabled']}")
    for j in migrate:
        name = j["metadata"]["name"]
        ann = j["metadata"].get("annotations") or {}
        c.that(set(ann.get(HOOK, "").split(",")) == {"pre-install", "pre-upgrade"},
               f"Job {name}: {HOOK}={ann.get(HOOK)!r}, want pre-install,pre-upgrade")
        c.that(re.fullmatch(r"-?\d+", ann.get(HOOK_WEIGHT, "")) is not None,
               f"Job {name}: {HOOK_WEIGHT}={ann.get(HOOK_WEIGHT)!r} is no integer")
        c.that({"before-hook-creation", "hook-succeeded"} <= set(ann.get(HOOK_DELETE, "").split(",")),
               f"Job {name}: {HOOK_DELETE}={ann.get(HOOK_DELETE)!r}")
        c.that(pod_spec(j).get("restartPolicy") in ("Never", "OnFailure"), f"Job {name}: restartPolicy")
        ref = (env_of(pod_spec(j)["containers"][0]).get("SCIMBUS_DATABASE_URL", {}).get("valueFrom") or {}).get("secretKeyRef")
        if c.that(ref is not None, f"Job {name}: SCIMBUS_DATABASE_URL is not from a Secret"):
            s = next((s for s in secrets if s["metadata"]["name"] == ref["name"]), None)
            if s is not None:
                # The chart's Secret must be there before the Job: a hook of lower weight.
                sa = s["metadata"].get("annotations") or {}
                c.that({"pre-install", "pre-upgrade"} <= set(sa.get(HOOK, "").split(","))
                       and int(sa.get(HOOK_WEIGHT, "0")) < int(ann.get(HOOK_WEIGHT, "0")),
                       f"Job {name}: Secret {s['metadata']['name']} is not a hook of lower weight, so it would not exist at install")
            else:
                c.that(ref["name"] in existing_secrets(values),
                       f"Job {name}: Secret {ref['name']} is neither rendered nor a values' existing Secret")
        c.that(not pod_spec(j).get("serviceAccountName")
               or pod_spec(j)["serviceAccountName"] not in {o["metadata"]["name"] for o in by_kind.get("ServiceAccount", [])},
               f"Job {name}: runs as the chart's ServiceAccount, which does not exist yet at pre-install")

    # --- security context of every container --------------------------------
    for o in deployments + jobs:
        spec = pod_spec(o)
        psc = spec.get("securityContext") or {}
        for ct in spec.get("containers", []) + spec.get("initContainers", []):
            sc = ct.get("securityContext") or {}
            where = f"{o['kind']} {o['metadata']['name']} container {ct['name']}"
            c.that(sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, f"{where}: runAsNonRoot is not true")
            c.that(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem is not true")
            c.that(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation is not false")
            c.that("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), f"{where}: capabilities do not drop ALL")
            seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            c.that(seccomp == "RuntimeDefault", f"{where}: seccompProfile {seccomp}, want RuntimeDefault")
            uid = sc.get("runAsUser", psc.get("runAsUser"))
            c.that(isinstance(uid, int) and uid != 0, f"{where}: runAsUser {uid}")
    for sa in by_kind.get("ServiceAccount", []):
        c.that(sa.get("automountServiceAccountToken") is False,
               f"ServiceAccount {sa['metadata']['name']}: automountServiceAccountToken is not false")

    # --- secrets stay in Secrets ---------------------------------------------
    known = secret_values(values)
    for value in known:
        for o in objs:
            if o["kind"] == "Secret":
                continue
            c.that(value not in json.dumps(o) and value not in yaml.safe_dump(o),
                   f"{o['kind']} {o['metadata']['name']} holds a secret value ({value[:4]}...)")
        c.that(any(value in data.values() for data in secret_data.values()),
               f"a secret value ({value[:4]}...) is in no rendered Secret")
    for cm in configmaps:
        for k, text in (cm.get("data") or {}).items():
            c.that(re.search(r"://[^/\s:@]+:[^@\s]+@", text) is None,
                   f"ConfigMap {cm['metadata']['name']} key {k}: a URL with a password")
    # Every env: reference of the configuration is given to the services.
    env_refs = set(re.findall(r'"env:([A-Za-z_][A-Za-z0-9_]*)"', config_text(values)))
    chart_env = set(values["secrets"].get("env") or {})
    for ref in sorted(env_refs):
        c.that(ref in chart_env or bool(values["secrets"].get("existingSecret"))
               or any(e.get("name") == ref for e in values.get("extraEnv") or []),
               f"config references env:{ref}, which neither secrets.env, secrets.existingSecret nor extraEnv gives")

    for f in c.failures:
        print(f"FAIL: {f}")
    if c.failures:
        print(f"{len(c.failures)} of {c.count} checks failed")
        return 1
    print(f"{c.count} checks, {len(known)} secret value{'' if len(known) == 1 else 's'} kept in Secrets")
    return 0


def config_text(values: dict) -> str:
    """The TOML configuration without its comment lines."""
    lines = (values.get("config") or "").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def secret_values(values: dict) -> list[str]:
    """The secret values a values file gives: secrets.env and the database URLs."""
    found = [str(v) for v in (values["secrets"].get("env") or {}).values()]
    db = values["database"]
    found += [u for u in (db.get("url"), db["readReplica"].get("url")) if u]
    return [v for v in found if len(v) >= 8]


def existing_secrets(values: dict) -> set[str]:
    """The names of Secrets that values say exist outside the chart."""
    names = {
        values["secrets"].get("existingSecret"),
        values["database"]["existingSecret"].get("name"),
        values["database"]["readReplica"]["existingSecret"].get("name"),
        values["nats"]["credentials"].get("existingSecret"),
        values["nats"]["userPassword"].get("existingSecret"),
        values["ingress"]["eventsSigningKey"].get("existingSecret"),
    }
    names |= {(e.get("secretRef") or {}).get("name") for e in values.get("extraEnvFrom") or []}
    return {n for n in names if n}


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "split":
        return split(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "break":
        return broken(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
