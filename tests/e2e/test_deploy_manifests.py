"""test_deploy_manifests: the deployment files agree with the wsgated config each one mounts.

docker/kubernetes/*.yaml (the sidecar Deployment, its ConfigMap, Services, ServiceMonitor and
PodDisruptionBudget), docker/compose.yaml and docker/compose.cluster.yaml name ports, probe
paths, volumes, socket paths and grace periods that only work if they match what the mounted
gateway.yaml says. A manifest that parses but disagrees with its config (a probe on a port
nothing listens on, a socket outside the shared volume, a grace period shorter than the drain)
fails only in a cluster; this test finds it here:

- Kubernetes: every volumeMount names a declared volume; the wsgated container's ports are
  exactly its config's listeners, none bound to loopback; the readiness probe asks /readyz and
  the liveness probe /healthz, both on the admin listener's port; every Unix socket of the
  config (backend url/path, auth hook url, admin.control_listen) lies in an emptyDir that another
  container mounts and names that socket; terminationGracePeriodSeconds > drain_timeout + the
  preStop sleep; Service targetPorts name container ports, Service selectors and the PDB's
  select the pods; the ServiceMonitor and the prometheus.io annotations point at the admin port
  and /metrics; admin.token comes from a Secret, and every ${VAR} the config needs is set.
- Compose: published ports are listeners of the mounted config (not on loopback), named volumes
  are declared, bind-mounted files exist, sockets are on a volume shared with the service that
  names them, stop_grace_period > drain_timeout, ulimits.nofile covers max_connections and
  the backend pools, control API URLs in other services name a listener, the image's
  HEALTHCHECK reaches the admin listener; cluster nodes share one Redis
  URL (a service of the file, on its port) and have distinct node_ids.
- Every mounted gateway.yaml passes `wsgated --config F --check` with exactly the environment
  its container gets (a Secret's value replaced by a test value).
- SidecarRuns starts the ConfigMap's config for real (the emptyDir moved to a temp dir, the
  listeners to 127.0.0.1:0) behind examples/python/chat_backend.py on app.sock: the probes'
  paths answer 200 on the admin listener, /metrics too, a client's connect reaches the app, and
  /v1 answers on the control socket (with the token) and not on admin.listen.

Each checker returns a list of problems; the Mistakes class mutates the manifests in memory
and asserts that each checker reports what was broken, so no check passes vacuously.

Run from tests/e2e:  WSGATED_BIN=../../build-asan/wsgated /usr/bin/python3 -m unittest -v test_deploy_manifests
"""
from __future__ import annotations

import asyncio
import copy
import http.client
import json
import math
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path, PurePosixPath

import websockets
import yaml

import harness

ROOT = harness.SOURCE_DIR
K8S_DIR = ROOT / "docker" / "kubernetes"
COMPOSE_FILES = [ROOT / "docker" / "compose.yaml", ROOT / "docker" / "compose.cluster.yaml"]
IMAGE_CONFIG = "/etc/wsgated/gateway.yaml"   # the Dockerfile's CMD
SECRET_VALUE = "secret-from-test"
COMPOSE_ENV = {"WSGATED_ADMIN_TOKEN": "compose-token-from-test"}  # what the user exports


# ---------------------------------------------------------------- the wsgated config, in Python

def expand_config_value(text: str, env: dict[str, str]) -> str:
    """${NAME}, ${NAME:-default}, $$ as the loader does (docs/configuration.md)."""
    def one(m: re.Match) -> str:
        if m[0] == "$$":
            return "$"
        value = env.get(m[1], "")
        return value if value or m[2] is None else m[2]
    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}", one, text)


def expand_tree(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {k: expand_tree(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [expand_tree(v, env) for v in node]
    return expand_config_value(node, env) if isinstance(node, str) else node


def required_vars(text: str) -> set[str]:
    """Variables the config uses without a default (an unset one silently becomes empty)."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))


def duration_s(text, default: str) -> float:
    text = str(text if text is not None else default)
    if text == "0":
        return 0.0
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", text)
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return int(m[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m[2]]


def split_address(address: str) -> tuple[str, int]:
    m = re.fullmatch(r"\[([^\]]+)\]:(\d+)|([^:]+):(\d+)", address)
    if not m:
        raise ValueError(f"not host:port: {address!r}")
    return (m[1], int(m[2])) if m[1] else (m[3], int(m[4]))


def is_loopback(host: str) -> bool:
    return host == "localhost" or host.startswith("127.") or host == "::1"


class Gateway:
    """The facts of one gateway.yaml that deployment files must agree with."""

    def __init__(self, text: str, env: dict[str, str], where: str):
        self.text, self.where = text, where
        self.raw = yaml.safe_load(text) or {}
        self.cfg = expand_tree(self.raw, env)
        server, admin = self.cfg.get("server") or {}, self.cfg.get("admin") or {}
        # (key, host, port) of every TCP listener; defaults from docs/configuration.md.
        self.listeners: list[tuple[str, str, int]] = []
        for i, entry in enumerate(server.get("listen") or [{"address": "0.0.0.0:8080"}]):
            self.listeners.append((f"server.listen[{i}]", *split_address(entry["address"])))
        self.admin_host, self.admin_port = split_address(admin.get("listen", "127.0.0.1:9090"))
        self.listeners.append(("admin.listen", self.admin_host, self.admin_port))
        control = admin.get("control_listen")
        if control and not control.startswith("unix:"):
            self.listeners.append(("admin.control_listen", *split_address(control)))
        self.drain_timeout = duration_s(server.get("drain_timeout"), "30s")
        self.sockets: list[tuple[str, str]] = []  # (key, path) of every Unix socket
        if control and control.startswith("unix:"):
            self.sockets.append(("admin.control_listen", control[len("unix:"):]))
        for name, b in (self.cfg.get("backends") or {}).items():
            if str(b.get("url", "")).startswith("unix:"):
                self.sockets.append((f"backends.{name}.url", unix_url_socket(b["url"])))
            if b.get("path"):
                self.sockets.append((f"backends.{name}.path", b["path"]))
        for i, r in enumerate(self.cfg.get("routes") or []):
            url = str((r.get("auth") or {}).get("url", ""))
            if url.startswith("unix:"):
                self.sockets.append((f"routes[{i}].auth.url", unix_url_socket(url)))
        self.token_raw = str((self.raw.get("admin") or {}).get("token", ""))
        cluster = self.cfg.get("cluster") or {}
        self.redis, self.node_id = cluster.get("redis") or "", cluster.get("node_id") or ""
        # Descriptors at full load: one per client (server.limits.max_connections), each http
        # backend's pool (max_connections, process-wide), 64 per http auth hook (docs/auth.md).
        limits = server.get("limits") or {}
        self.max_connections = int(limits.get("max_connections", 100000))
        self.pooled = sum(int(b.get("max_connections", 64))
                          for b in (self.cfg.get("backends") or {}).values()
                          if b.get("type") == "http")
        self.pooled += 64 * sum(1 for r in self.cfg.get("routes") or []
                                if (r.get("auth") or {}).get("type") == "http")

    def control_socket(self) -> str | None:
        return next((p for k, p in self.sockets if k == "admin.control_listen"), None)


def unix_url_socket(url: str) -> str:
    """unix:/run/app.sock:/ws -> /run/app.sock"""
    rest = url[len("unix:"):]
    return rest.split(":", 1)[0]


def run_check(text: str, env: dict[str, str], name: str) -> list[str]:
    """`wsgated --config F --check` with exactly `env` (plus PATH and the sanitizer options)."""
    with tempfile.TemporaryDirectory(prefix="wsgated-deploy-") as d:
        f = os.path.join(d, "gateway.yaml")
        Path(f).write_text(text)
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **harness.SAN_ENV, **env}
        r = subprocess.run([harness.BIN, "--config", f, "--check"], env=full, cwd=d,
                           capture_output=True, text=True, timeout=60)
    if r.returncode == 0 and "config OK" in r.stdout:
        return []
    return [f"{name}: wsgated --check exit {r.returncode}: {(r.stdout + r.stderr).strip()}"]


def config_path_of(args: list[str], env: dict[str, str]) -> str:
    for i, a in enumerate(args):
        if a in ("--config", "-c") and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--config="):
            return a.split("=", 1)[1]
    return env.get("WSGATED_CONFIG", IMAGE_CONFIG)


def under(path: str, directory: str) -> str | None:
    """`path` relative to `directory`, or None when it is not inside it."""
    try:
        return str(PurePosixPath(path).relative_to(PurePosixPath(directory)))
    except ValueError:
        return None


def prestop_sleep(hook: dict | None) -> int | None:
    """Seconds a preStop hook sleeps: sleep.seconds, or `sleep N` in an exec command."""
    if not hook:
        return None
    if "sleep" in hook:
        return int(hook["sleep"]["seconds"])
    command = " ".join(str(c) for c in (hook.get("exec") or {}).get("command") or [])
    m = re.search(r"\bsleep\s+(\d+)", command)
    return int(m[1]) if m else 0


# ---------------------------------------------------------------- Kubernetes

def load_k8s() -> list[dict]:
    docs = []
    for f in sorted(K8S_DIR.glob("*.yaml")):
        for d in yaml.safe_load_all(f.read_text()):
            if d is not None:
                d.setdefault("_file", f.name)
                docs.append(d)
    return docs


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d.get("kind") == kind]


def name_of(d: dict) -> str:
    return f"{d.get('_file', '?')}: {d.get('kind')} {d.get('metadata', {}).get('name')}"


def selects(selector: dict | None, labels: dict | None) -> bool:
    selector = selector or {}
    return bool(selector) and all((labels or {}).get(k) == v for k, v in selector.items())


def cpu_quantity(q) -> float:
    q = str(q)
    return int(q[:-1]) / 1000 if q.endswith("m") else float(q)


class Pod:
    """A Deployment's pod template, its wsgated container and the config that one mounts."""

    def __init__(self, deployment: dict, docs: list[dict]):
        self.deployment, self.docs = deployment, docs
        self.where = name_of(deployment)
        self.template = deployment["spec"]["template"]
        self.spec = self.template["spec"]
        self.labels = self.template.get("metadata", {}).get("labels") or {}
        self.containers = self.spec.get("containers") or []
        self.volumes = {v["name"]: v for v in self.spec.get("volumes") or []}
        self.gw_container = next((c for c in self.containers
                                  if str(c.get("image", "")).startswith("wsgated")
                                  or c.get("name") == "wsgated"), None)
        self.problems: list[str] = []
        self.gateway: Gateway | None = None
        self.config_text = ""
        if self.gw_container is None:
            self.problems.append(f"{self.where}: no wsgated container")
            return
        self.env = self.container_env(self.gw_container)
        path = config_path_of([*self.gw_container.get("command", [])[1:],
                               *self.gw_container.get("args", [])], self.env)
        text = self.config_from_mounts(self.gw_container, path)
        if text is None:
            return
        self.config_text = text
        self.gateway = Gateway(text, self.env, f"{self.where}: {path}")

    def container_env(self, c: dict) -> dict[str, str]:
        env = {}
        for e in c.get("env") or []:
            if "value" in e:
                env[e["name"]] = str(e["value"])
                continue
            src = e.get("valueFrom") or {}
            if "secretKeyRef" in src:
                env[e["name"]] = SECRET_VALUE
            elif "configMapKeyRef" in src:
                ref = src["configMapKeyRef"]
                cm = self.config_map(ref["name"])
                env[e["name"]] = str(((cm or {}).get("data") or {}).get(ref["key"], ""))
            elif "resourceFieldRef" in src:
                env[e["name"]] = self.resource_field(src["resourceFieldRef"], c)
            elif "fieldRef" in src:
                env[e["name"]] = "pod-field-from-test"
        return env

    def resource_field(self, ref: dict, default: dict) -> str:
        c = next((x for x in self.containers if x.get("name") == ref.get("containerName")), default)
        kind, _, what = ref["resource"].partition(".")  # requests.cpu
        value = ((c.get("resources") or {}).get(kind) or {}).get(what)
        if value is None or what != "cpu":
            return "1"
        return str(max(1, math.ceil(cpu_quantity(value) / cpu_quantity(ref.get("divisor", "1")))))

    def config_map(self, name: str) -> dict | None:
        return next((d for d in of_kind(self.docs, "ConfigMap")
                     if d.get("metadata", {}).get("name") == name), None)

    def config_from_mounts(self, c: dict, path: str) -> str | None:
        mounts = [m for m in c.get("volumeMounts") or []
                  if (m.get("subPath") and m["mountPath"] == path)
                  or (not m.get("subPath") and under(path, m["mountPath"]) is not None)]
        if not mounts:
            self.problems.append(f"{self.where}: the config {path} is on no volumeMount of "
                                 f"container {c['name']}")
            return None
        m = max(mounts, key=lambda m: len(m["mountPath"]))
        vol = self.volumes.get(m["name"])
        if vol is None or "configMap" not in vol:
            self.problems.append(f"{self.where}: the config {path} is on volume {m['name']!r}, "
                                 "which is not a declared configMap volume")
            return None
        key = m.get("subPath") or under(path, m["mountPath"])
        for item in vol["configMap"].get("items") or []:
            if item["path"] == key:
                key = item["key"]
        cm = self.config_map(vol["configMap"]["name"])
        text = ((cm or {}).get("data") or {}).get(key)
        if text is None:
            self.problems.append(f"{self.where}: ConfigMap {vol['configMap']['name']!r} has no "
                                 f"key {key!r} for the config {path}")
        return text

    def port_number(self, c: dict, port) -> int | None:
        if isinstance(port, int):
            return port
        for p in c.get("ports") or []:
            if p.get("name") == port:
                return int(p["containerPort"])
        return int(port) if str(port).isdigit() else None

    def any_port_number(self, port) -> int | None:
        """A Service's targetPort against every container of the pod."""
        for c in self.containers:
            n = self.port_number(c, port)
            if n is not None and any(int(p["containerPort"]) == n for p in c.get("ports") or []):
                return n
        return None

    def mentions(self, c: dict) -> str:
        values = [*map(str, c.get("command") or []), *map(str, c.get("args") or []),
                  *(str(e.get("value", "")) for e in c.get("env") or [])]
        return "\n".join(values)


def pods(docs: list[dict]) -> list[Pod]:
    return [Pod(d, docs) for d in of_kind(docs, "Deployment")]


def gateway_pods(docs: list[dict]) -> tuple[list[Pod], list[str]]:
    ps = pods(docs)
    problems = [p for pod in ps for p in pod.problems]
    if not ps:
        problems.append("no Deployment in docker/kubernetes")
    return [p for p in ps if p.gateway], problems


def check_k8s_documents(docs: list[dict]) -> list[str]:
    problems = []
    for d in docs:
        for field in ("apiVersion", "kind"):
            if not d.get(field):
                problems.append(f"{d.get('_file')}: a document without {field}")
        if not (d.get("metadata") or {}).get("name"):
            problems.append(f"{name_of(d)}: no metadata.name")
    kinds = {d.get("kind") for d in docs}
    for kind in ("ConfigMap", "Deployment", "Service", "ServiceMonitor", "PodDisruptionBudget"):
        if kind not in kinds:
            problems.append(f"docker/kubernetes has no {kind}")
    return problems


def check_k8s_volumes(docs: list[dict]) -> list[str]:
    problems = []
    for pod in pods(docs):
        used = set()
        for c in pod.containers:
            for m in c.get("volumeMounts") or []:
                used.add(m["name"])
                if m["name"] not in pod.volumes:
                    problems.append(f"{pod.where}: container {c['name']} mounts volume "
                                    f"{m['name']!r}, which is not declared in volumes")
        for name in pod.volumes.keys() - used:
            problems.append(f"{pod.where}: volume {name!r} is declared but mounted by no container")
        for name, v in pod.volumes.items():
            if "configMap" in v and pod.config_map(v["configMap"]["name"]) is None:
                problems.append(f"{pod.where}: volume {name!r} names ConfigMap "
                                f"{v['configMap']['name']!r}, which is not in the manifests")
    return problems


def check_k8s_ports(docs: list[dict]) -> list[str]:
    gps, problems = gateway_pods(docs)
    for pod in gps:
        declared = {int(p["containerPort"]): p.get("name") for p in pod.gw_container.get("ports") or []}
        listening = {port for _, _, port in pod.gateway.listeners}
        for key, host, port in pod.gateway.listeners:
            if port not in declared:
                problems.append(f"{pod.where}: {key} listens on port {port}, which is not a "
                                f"containerPort of {pod.gw_container['name']} ({sorted(declared)})")
            if is_loopback(host):
                problems.append(f"{pod.where}: {key} listens on {host}:{port}: the kubelet, "
                                "Services and Prometheus reach the pod address, not loopback")
        for port, name in declared.items():
            if port not in listening:
                problems.append(f"{pod.where}: containerPort {port} ({name}) is no listener of "
                                "the config")
    return problems


def check_k8s_probes(docs: list[dict]) -> list[str]:
    gps, problems = gateway_pods(docs)
    for pod in gps:
        c = pod.gw_container
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = (c.get(probe) or {}).get("httpGet")
            if not get:
                problems.append(f"{pod.where}: {c['name']} has no {probe} with httpGet {path}")
                continue
            if get.get("path") != path:
                problems.append(f"{pod.where}: {probe} asks {get.get('path')!r}, not {path}")
            port = pod.port_number(c, get.get("port"))
            if port is None:
                problems.append(f"{pod.where}: {probe} port {get.get('port')!r} names no "
                                f"containerPort of {c['name']}")
            elif port != pod.gateway.admin_port:
                problems.append(f"{pod.where}: {probe} on port {port}, but admin.listen (where "
                                f"{path} is served) is on {pod.gateway.admin_port}")
    return problems


def check_k8s_sockets(docs: list[dict]) -> list[str]:
    gps, problems = gateway_pods(docs)
    for pod in gps:
        c = pod.gw_container
        for key, path in pod.gateway.sockets:
            mounts = [m for m in c.get("volumeMounts") or [] if under(path, m["mountPath"])]
            if not mounts:
                problems.append(f"{pod.where}: {key} {path} is on no volumeMount of {c['name']}: "
                                "the other container cannot reach it")
                continue
            m = max(mounts, key=lambda m: len(m["mountPath"]))
            if "emptyDir" not in pod.volumes.get(m["name"], {}):
                problems.append(f"{pod.where}: {key} {path} is on volume {m['name']!r}, which is "
                                "not an emptyDir")
                continue
            rel = under(path, m["mountPath"])
            named = False
            for other in pod.containers:
                if other is c:
                    continue
                for om in other.get("volumeMounts") or []:
                    if om["name"] == m["name"]:
                        there = str(PurePosixPath(om["mountPath"]) / rel)
                        named = named or there in pod.mentions(other)
            if not named:
                problems.append(f"{pod.where}: {key} {path}: no other container mounts volume "
                                f"{m['name']!r} and names that socket (env, args, command)")
        # The other way: a socket the app names on a shared volume is one the config has.
        known = set()
        for key, path in pod.gateway.sockets:
            for m in c.get("volumeMounts") or []:
                if under(path, m["mountPath"]):
                    known.add((m["name"], under(path, m["mountPath"])))
        for other in pod.containers:
            if other is c:
                continue
            for om in other.get("volumeMounts") or []:
                for sock in re.findall(r"(/[\w./-]+\.sock)\b", pod.mentions(other)):
                    rel = under(sock, om["mountPath"])
                    if rel and (om["name"], rel) not in known:
                        problems.append(f"{pod.where}: container {other['name']} names {sock} "
                                        "on a shared volume, which no socket of the config is")
    return problems


def check_k8s_grace(docs: list[dict]) -> list[str]:
    gps, problems = gateway_pods(docs)
    for pod in gps:
        hook = ((pod.gw_container.get("lifecycle") or {}).get("preStop"))
        sleep = prestop_sleep(hook)
        if sleep is None:
            problems.append(f"{pod.where}: {pod.gw_container['name']} has no preStop hook")
            sleep = 0
        grace = pod.spec.get("terminationGracePeriodSeconds", 30)
        if not grace > pod.gateway.drain_timeout + sleep:
            problems.append(f"{pod.where}: terminationGracePeriodSeconds {grace} is not above "
                            f"server.drain_timeout ({pod.gateway.drain_timeout:g}s) + the preStop "
                            f"sleep ({sleep}s)")
    return problems


def check_k8s_services(docs: list[dict]) -> list[str]:
    problems = []
    all_pods = pods(docs)
    for svc in of_kind(docs, "Service"):
        spec = svc.get("spec") or {}
        matched = [p for p in all_pods if selects(spec.get("selector"), p.labels)]
        if not matched:
            problems.append(f"{name_of(svc)}: selector {spec.get('selector')} selects no pod")
            continue
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for pod in matched:
                if pod.any_port_number(target) is None:
                    problems.append(f"{name_of(svc)}: port {port.get('name')!r} targetPort "
                                    f"{target!r} names no containerPort of {pod.where}")
    return problems


def service_admin_target(svc: dict, port_name, docs: list[dict]) -> tuple[int | None, str | None]:
    """(container port, problem) of a Service port named `port_name`."""
    port = next((p for p in (svc.get("spec") or {}).get("ports") or []
                 if p.get("name") == port_name), None)
    if port is None:
        return None, f"Service {svc['metadata']['name']} has no port named {port_name!r}"
    target = port.get("targetPort", port.get("port"))
    for pod in pods(docs):
        if selects(svc["spec"].get("selector"), pod.labels):
            return pod.any_port_number(target), None
    return None, f"Service {svc['metadata']['name']} selects no pod"


def check_k8s_monitoring(docs: list[dict]) -> list[str]:
    gps, problems = gateway_pods(docs)
    admin_ports = {pod.gateway.admin_port for pod in gps}
    for sm in of_kind(docs, "ServiceMonitor"):
        spec = sm.get("spec") or {}
        svcs = [s for s in of_kind(docs, "Service")
                if selects((spec.get("selector") or {}).get("matchLabels"),
                           s.get("metadata", {}).get("labels"))]
        if not svcs:
            problems.append(f"{name_of(sm)}: selector matches no Service's labels")
        for ep in spec.get("endpoints") or []:
            if ep.get("path", "/metrics") != "/metrics":
                problems.append(f"{name_of(sm)}: endpoint path {ep.get('path')!r}, not /metrics")
            for svc in svcs:
                port, why = service_admin_target(svc, ep.get("port"), docs)
                if why:
                    problems.append(f"{name_of(sm)}: endpoint port {ep.get('port')!r}: {why}")
                elif port not in admin_ports:
                    problems.append(f"{name_of(sm)}: endpoint port {ep.get('port')!r} reaches "
                                    f"container port {port}, not admin.listen {sorted(admin_ports)}")
        if not spec.get("endpoints"):
            problems.append(f"{name_of(sm)}: no endpoints")
    for pod in gps:
        ann = pod.template.get("metadata", {}).get("annotations") or {}
        if ann.get("prometheus.io/scrape") != "true":
            problems.append(f"{pod.where}: no prometheus.io/scrape: \"true\" annotation")
            continue
        if str(ann.get("prometheus.io/port")) != str(pod.gateway.admin_port):
            problems.append(f"{pod.where}: prometheus.io/port {ann.get('prometheus.io/port')!r} "
                            f"is not admin.listen's port {pod.gateway.admin_port}")
        if ann.get("prometheus.io/path", "/metrics") != "/metrics":
            problems.append(f"{pod.where}: prometheus.io/path {ann.get('prometheus.io/path')!r} "
                            "is not /metrics")
    return problems


def check_k8s_disruption(docs: list[dict]) -> list[str]:
    problems = []
    all_pods = pods(docs)
    for pod in all_pods:
        if not selects(pod.deployment["spec"].get("selector", {}).get("matchLabels"), pod.labels):
            problems.append(f"{pod.where}: spec.selector does not match the template's labels")
    pdbs = of_kind(docs, "PodDisruptionBudget")
    for pdb in pdbs:
        spec = pdb.get("spec") or {}
        matched = [p for p in all_pods
                   if selects((spec.get("selector") or {}).get("matchLabels"), p.labels)]
        if not matched:
            problems.append(f"{name_of(pdb)}: selector matches no pod template's labels")
        for pod in matched:
            replicas = pod.deployment["spec"].get("replicas", 1)
            if "minAvailable" in spec and int(spec["minAvailable"]) >= replicas:
                problems.append(f"{name_of(pdb)}: minAvailable {spec['minAvailable']} with "
                                f"{replicas} replicas blocks every voluntary eviction")
            if "maxUnavailable" in spec and int(spec["maxUnavailable"]) < 1:
                problems.append(f"{name_of(pdb)}: maxUnavailable 0 blocks every voluntary eviction")
    for pod in all_pods:
        if not any(selects((p.get("spec", {}).get("selector") or {}).get("matchLabels"), pod.labels)
                   for p in pdbs):
            problems.append(f"{pod.where}: no PodDisruptionBudget covers its pods")
    return problems


def check_k8s_env(docs: list[dict]) -> list[str]:
    gps, problems = gateway_pods(docs)
    for pod in gps:
        c = pod.gw_container
        for var in sorted(required_vars(pod.config_text) - pod.env.keys()):
            problems.append(f"{pod.where}: the config uses ${{{var}}}, which {c['name']}'s env "
                            "does not set")
        m = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", pod.gateway.token_raw)
        if not m:
            problems.append(f"{pod.where}: admin.token is not ${{VAR}} from a Secret")
            continue
        ref = next(((e.get("valueFrom") or {}).get("secretKeyRef") for e in c.get("env") or []
                    if e["name"] == m[1]), None)
        if not ref:
            problems.append(f"{pod.where}: admin.token's ${{{m[1]}}} is not a secretKeyRef")
            continue
        control = pod.gateway.control_socket()
        for other in pod.containers:
            if other is c or not control or PurePosixPath(control).name not in pod.mentions(other):
                continue
            refs = [(e.get("valueFrom") or {}).get("secretKeyRef") for e in other.get("env") or []]
            if ref not in refs:
                problems.append(f"{pod.where}: container {other['name']} uses the control "
                                f"socket but does not get the admin token (secret {ref})")
    return problems


def check_k8s_configs_pass(docs: list[dict]) -> list[str]:
    gps, problems = gateway_pods(docs)
    for pod in gps:
        problems += run_check(pod.config_text, pod.env, pod.gateway.where)
    return problems


K8S_CHECKS = [check_k8s_documents, check_k8s_volumes, check_k8s_ports, check_k8s_probes,
              check_k8s_sockets, check_k8s_grace, check_k8s_services, check_k8s_monitoring,
              check_k8s_disruption, check_k8s_env]


# ---------------------------------------------------------------- Compose

def compose_interpolate(text: str, env: dict[str, str]) -> str:
    """${VAR}, ${VAR:-default}, ${VAR:?message}, $$ as docker compose does."""
    def one(m: re.Match) -> str:
        if m[0] == "$$":
            return "$"
        value = env.get(m[1], "")
        if m[2] == ":-" and not value:
            return m[3]
        if m[2] == ":?" and not value:
            raise ValueError(f"compose: {m[1]} is required: {m[3]}")
        return value
    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}", one, text)


def compose_tree(node, env):
    if isinstance(node, dict):
        return {k: compose_tree(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [compose_tree(v, env) for v in node]
    return compose_interpolate(node, env) if isinstance(node, str) else node


def parse_mount(v) -> dict:
    """A service volume, short (SRC:DST[:ro]) or long syntax -> {type, source, target}."""
    if isinstance(v, dict):
        return {"type": v.get("type", "volume"), "source": v.get("source"), "target": v["target"]}
    parts = v.split(":")
    if len(parts) == 1:
        return {"type": "volume", "source": None, "target": parts[0]}
    src = parts[0]
    kind = "bind" if src.startswith((".", "/", "~")) else "volume"
    return {"type": kind, "source": src, "target": parts[1]}


def parse_published(p) -> tuple[str | None, int | None, int]:
    """A service port -> (host ip, host port, container port)."""
    if isinstance(p, dict):
        return p.get("host_ip"), p.get("published") and int(p["published"]), int(p["target"])
    parts = str(p).split("/")[0].split(":")
    if len(parts) == 1:
        return None, None, int(parts[0])
    if len(parts) == 2:
        return None, int(parts[0]), int(parts[1])
    return parts[0], int(parts[1]), int(parts[2])


def as_list(command) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


class Compose:
    """One compose file, interpolated as `docker compose` would with COMPOSE_ENV exported."""

    def __init__(self, path: Path, doc: dict | None = None, files: dict[str, str] | None = None):
        self.path, self.dir = path, path.parent
        raw = doc if doc is not None else yaml.safe_load(path.read_text())
        self.doc = compose_tree(raw, COMPOSE_ENV)
        self.files = files or {}   # config texts overriding the files on disk (mutation tests)
        self.services: dict[str, dict] = self.doc.get("services") or {}
        self.problems: list[str] = []
        self.gateways: dict[str, Gateway] = {}
        self.config_texts: dict[str, str] = {}
        for name, s in self.services.items():
            if not self.is_wsgated(s):
                continue
            text = self.config_of(name, s)
            if text is not None:
                self.config_texts[name] = text
                self.gateways[name] = Gateway(text, self.env(s), f"{path.name}: {name}")

    @staticmethod
    def is_wsgated(s: dict) -> bool:
        return str(s.get("image", "")).startswith("wsgated") or "build" in s

    @staticmethod
    def env(s: dict) -> dict[str, str]:
        e = s.get("environment") or {}
        if isinstance(e, list):
            e = dict(x.split("=", 1) if "=" in x else (x, "") for x in e)
        return {k: "" if v is None else str(v) for k, v in e.items()}

    def mounts(self, s: dict) -> list[dict]:
        return [parse_mount(v) for v in s.get("volumes") or []]

    def config_of(self, name: str, s: dict) -> str | None:
        path = config_path_of(as_list(s.get("command")), self.env(s))
        for m in self.mounts(s):
            if m["type"] == "bind" and m["target"] == path:
                src = (self.dir / m["source"]).resolve()
                if str(src) in self.files:
                    return self.files[str(src)]
                if not src.is_file():
                    self.problems.append(f"{self.path.name}: {name} mounts {m['source']} at "
                                         f"{path}, which does not exist")
                    return None
                return src.read_text()
        self.problems.append(f"{self.path.name}: {name} runs --config {path}, which no bind "
                             "mount of the service provides (the image's own file is the demo)")
        return None

    def mentions(self, s: dict) -> str:
        return "\n".join([*as_list(s.get("command")), *as_list(s.get("entrypoint")),
                          *self.env(s).values()])


def load_compose() -> list[Compose]:
    return [Compose(p) for p in COMPOSE_FILES]


def check_compose_ports(projects: list[Compose]) -> list[str]:
    problems = []
    for cp in projects:
        problems += cp.problems
        if not cp.gateways:
            problems.append(f"{cp.path.name}: no wsgated service with a mounted config")
        for name, gw in cp.gateways.items():
            s = cp.services[name]
            by_port = {port: (key, host) for key, host, port in gw.listeners}
            for p in s.get("ports") or []:
                _, _, target = parse_published(p)
                if target not in by_port:
                    problems.append(f"{cp.path.name}: {name} publishes container port {target}, "
                                    f"which no listener of its config uses ({sorted(by_port)})")
                elif is_loopback(by_port[target][1]):
                    problems.append(f"{cp.path.name}: {name} publishes {target}, but "
                                    f"{by_port[target][0]} listens on loopback inside the container")
            # The image's HEALTHCHECK: GET /healthz on 127.0.0.1:${WSGATED_ADMIN_PORT:-9090}.
            hc_port = int(cp.env(s).get("WSGATED_ADMIN_PORT") or 9090)
            if hc_port != gw.admin_port or not (gw.admin_host in ("0.0.0.0", "127.0.0.1")):
                problems.append(f"{cp.path.name}: {name}: the image's HEALTHCHECK asks "
                                f"127.0.0.1:{hc_port}, admin.listen is {gw.admin_host}:"
                                f"{gw.admin_port} (set WSGATED_ADMIN_PORT)")
    return problems


def check_compose_volumes(projects: list[Compose]) -> list[str]:
    problems = []
    for cp in projects:
        declared = (cp.doc.get("volumes") or {}).keys()
        for name, s in cp.services.items():
            for m in cp.mounts(s):
                if m["type"] == "volume" and m["source"] and m["source"] not in declared:
                    problems.append(f"{cp.path.name}: {name} mounts volume {m['source']!r}, "
                                    "which is not declared in the top-level volumes")
                if m["type"] == "bind" and not (cp.dir / m["source"]).resolve().exists():
                    problems.append(f"{cp.path.name}: {name} bind-mounts {m['source']}, "
                                    "which does not exist")
    return problems


def check_compose_sockets(projects: list[Compose]) -> list[str]:
    problems = []
    for cp in projects:
        for name, gw in cp.gateways.items():
            mine = [m for m in cp.mounts(cp.services[name]) if m["type"] == "volume"]
            for key, path in gw.sockets:
                hits = [m for m in mine if under(path, m["target"])]
                if not hits:
                    problems.append(f"{cp.path.name}: {name}: {key} {path} is on no named "
                                    "volume of the service: the other container cannot reach it")
                    continue
                m = max(hits, key=lambda m: len(m["target"]))
                rel = under(path, m["target"])
                named = any(om["source"] == m["source"]
                            and str(PurePosixPath(om["target"]) / rel) in cp.mentions(svc)
                            for other, svc in cp.services.items() if other != name
                            for om in cp.mounts(svc) if om["type"] == "volume")
                if not named:
                    problems.append(f"{cp.path.name}: {name}: {key} {path}: no other service "
                                    f"mounts volume {m['source']!r} and names that socket")
    return problems


def check_compose_grace(projects: list[Compose]) -> list[str]:
    problems = []
    for cp in projects:
        for name, gw in cp.gateways.items():
            grace = duration_s(cp.services[name].get("stop_grace_period"), "10s")
            if not grace > gw.drain_timeout:
                problems.append(f"{cp.path.name}: {name}: stop_grace_period {grace:g}s is not "
                                f"above server.drain_timeout ({gw.drain_timeout:g}s)")
    return problems


def check_compose_urls(projects: list[Compose]) -> list[str]:
    """http://SERVICE:PORT in any service's environment names a listener of that service."""
    problems = []
    for cp in projects:
        for name, s in cp.services.items():
            for var, value in cp.env(s).items():
                for host, port in re.findall(r"https?://([\w.-]+):(\d+)", value):
                    gw = cp.gateways.get(host)
                    if gw and int(port) not in {p for _, _, p in gw.listeners}:
                        problems.append(f"{cp.path.name}: {name}: {var}={value} names port "
                                        f"{port} of {host}, which no listener of its config uses")
    return problems


def check_compose_fds(projects: list[Compose]) -> list[str]:
    """ulimits.nofile (soft) covers every client and pooled connection the config allows."""
    problems = []
    for cp in projects:
        for name, gw in cp.gateways.items():
            nofile = (cp.services[name].get("ulimits") or {}).get("nofile")
            soft = int(nofile["soft"] if isinstance(nofile, dict) else nofile or 0)
            need = gw.max_connections + gw.pooled
            if soft < need:
                problems.append(f"{cp.path.name}: {name}: ulimits.nofile {soft or 'unset'} is "
                                f"below max_connections + pooled connections ({need})")
    return problems


def check_compose_env(projects: list[Compose]) -> list[str]:
    problems = []
    for cp in projects:
        for name, text in cp.config_texts.items():
            for var in sorted(required_vars(text) - cp.env(cp.services[name]).keys()):
                problems.append(f"{cp.path.name}: {name}: the config uses ${{{var}}}, which the "
                                "service's environment does not set")
    return problems


def check_compose_cluster(projects: list[Compose]) -> list[str]:
    problems = []
    for cp in projects:
        nodes = {n: gw for n, gw in cp.gateways.items() if gw.redis}
        if not nodes:
            continue
        if len(nodes) < 2:
            problems.append(f"{cp.path.name}: a cluster of {len(nodes)} node")
        urls = {gw.redis for gw in nodes.values()}
        if len(urls) != 1:
            problems.append(f"{cp.path.name}: the nodes use different cluster.redis URLs: "
                            f"{sorted(urls)}")
        ids = [gw.node_id for gw in nodes.values()]
        if "" in ids or len(set(ids)) != len(ids):
            problems.append(f"{cp.path.name}: cluster.node_id must be set and distinct: "
                            f"{dict(zip(nodes, ids))}")
        for url in urls:
            m = re.fullmatch(r"rediss?://(?:[^@]*@)?([\w.-]+)(?::(\d+))?(?:/\d*)?", url)
            if not m:
                problems.append(f"{cp.path.name}: cannot read cluster.redis {url!r}")
                continue
            host, port = m[1], int(m[2] or 6379)
            redis = cp.services.get(host)
            if redis is None:
                problems.append(f"{cp.path.name}: cluster.redis names host {host!r}, which is "
                                "not a service of this file")
                continue
            cmd = as_list(redis.get("command"))
            served = int(cmd[cmd.index("--port") + 1]) if "--port" in cmd else 6379
            if port != served:
                problems.append(f"{cp.path.name}: cluster.redis port {port}, {host} serves {served}")
            for n in nodes:
                deps = cp.services[n].get("depends_on") or []
                if host not in deps:
                    problems.append(f"{cp.path.name}: {n} does not depend_on {host}")
    return problems


def check_compose_configs_pass(projects: list[Compose]) -> list[str]:
    problems = []
    for cp in projects:
        for name, text in cp.config_texts.items():
            problems += run_check(text, cp.env(cp.services[name]), f"{cp.path.name}: {name}")
    return problems


COMPOSE_CHECKS = [check_compose_ports, check_compose_volumes, check_compose_sockets,
                  check_compose_grace, check_compose_urls, check_compose_fds, check_compose_env,
                  check_compose_cluster]


# ---------------------------------------------------------------- the tests

class Kubernetes(unittest.TestCase):
    def setUp(self):
        self.docs = load_k8s()

    def test_every_manifest_parses_with_kind_and_name(self):
        self.assertEqual(check_k8s_documents(self.docs), [])

    def test_volume_mounts_name_declared_volumes(self):
        self.assertEqual(check_k8s_volumes(self.docs), [])

    def test_container_ports_are_the_configs_listeners(self):
        self.assertEqual(check_k8s_ports(self.docs), [])

    def test_probes_ask_readyz_and_healthz_on_the_admin_port(self):
        self.assertEqual(check_k8s_probes(self.docs), [])

    def test_unix_sockets_are_on_the_shared_emptydir(self):
        self.assertEqual(check_k8s_sockets(self.docs), [])

    def test_grace_period_covers_prestop_and_drain(self):
        self.assertEqual(check_k8s_grace(self.docs), [])

    def test_service_target_ports_name_container_ports(self):
        self.assertEqual(check_k8s_services(self.docs), [])

    def test_service_monitor_and_annotations_scrape_admin_metrics(self):
        self.assertEqual(check_k8s_monitoring(self.docs), [])

    def test_pdb_and_selectors_match_the_pods(self):
        self.assertEqual(check_k8s_disruption(self.docs), [])

    def test_admin_token_from_a_secret_and_every_variable_set(self):
        self.assertEqual(check_k8s_env(self.docs), [])

    def test_mounted_config_passes_check(self):
        # Until admin.control_listen (SPEC §6) is in the binary, this reports "unknown key".
        self.assertEqual(check_k8s_configs_pass(self.docs), [])


class ComposeFiles(unittest.TestCase):
    def setUp(self):
        self.projects = load_compose()

    def test_published_ports_are_listeners(self):
        self.assertEqual(check_compose_ports(self.projects), [])

    def test_volumes_declared_and_bind_sources_exist(self):
        self.assertEqual(check_compose_volumes(self.projects), [])

    def test_unix_sockets_on_a_shared_volume(self):
        self.assertEqual(check_compose_sockets(self.projects), [])

    def test_stop_grace_period_above_drain_timeout(self):
        self.assertEqual(check_compose_grace(self.projects), [])

    def test_control_api_urls_name_a_listener(self):
        self.assertEqual(check_compose_urls(self.projects), [])

    def test_descriptor_limit_covers_max_connections(self):
        self.assertEqual(check_compose_fds(self.projects), [])

    def test_every_variable_of_the_config_is_set(self):
        self.assertEqual(check_compose_env(self.projects), [])

    def test_cluster_nodes_share_redis_with_distinct_node_ids(self):
        cluster = [cp for cp in self.projects if any(gw.redis for gw in cp.gateways.values())]
        self.assertEqual([cp.path.name for cp in cluster], ["compose.cluster.yaml"])
        self.assertEqual(check_compose_cluster(self.projects), [])

    def test_mounted_configs_pass_check(self):
        self.assertEqual(check_compose_configs_pass(self.projects), [])


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=5)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.unix_path)


def http_get(conn: http.client.HTTPConnection, path: str, token: str | None = None):
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
    res = conn.getresponse()
    body = res.read()
    conn.close()
    return res.status, body


class SidecarRuns(unittest.TestCase):
    """The ConfigMap's gateway.yaml, run for real with the pod's /shared moved to a temp dir and
    the listeners to 127.0.0.1:0, behind examples/python on /shared/app.sock: the Deployment's
    probes answer 200 on the admin listener, /v1 is on the control socket and only there, and a
    client's connect reaches the app through the socket."""

    def test_probes_metrics_control_socket_and_backend(self):
        docs = load_k8s()
        pod = next(p for p in pods(docs) if p.gateway)
        d = harness.temp_dir(self.addCleanup)
        text = (pod.config_text.replace("/shared/", d + "/")
                .replace("0.0.0.0:8080", "127.0.0.1:0").replace("0.0.0.0:9090", "127.0.0.1:0"))
        token = "sidecar-test-token"
        app = subprocess.Popen([sys.executable, str(ROOT / "examples" / "python" / "chat_backend.py"),
                                "--unix", os.path.join(d, "app.sock")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(app.wait, 5)
        self.addCleanup(app.kill)
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(d, "app.sock")) and time.monotonic() < deadline:
            time.sleep(0.05)
        gw = harness.start_gateway(text, self.addCleanup, tmp=d,
                                   env={"WSGATED_ADMIN_TOKEN": token, "WSGATED_WORKERS": "1"})
        admin = next(m for m in (re.search(r"admin listening on ([\d.]+):(\d+)", line)
                                 for line in gw.lines) if m)
        tcp = lambda: http.client.HTTPConnection(admin[1], int(admin[2]), timeout=5)  # noqa: E731
        c = pod.gw_container
        for probe in ("readinessProbe", "livenessProbe"):
            status, _ = http_get(tcp(), c[probe]["httpGet"]["path"])
            self.assertEqual(status, 200, probe)
        status, body = http_get(tcp(), "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"wsgate_connections", body)
        control = pod.gateway.control_socket().replace("/shared/", d + "/")

        async def client():
            async with websockets.connect(gw.url(0, "/ws/lobby"), open_timeout=5) as ws:
                welcome = await asyncio.wait_for(ws.recv(), 5)
                status, body = http_get(UnixHTTPConnection(control), "/v1/rooms/room:lobby", token)
                return welcome, status, body
        welcome, status, body = asyncio.run(client())
        self.assertTrue(welcome.startswith("welcome to lobby"), welcome)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["members"], 1)
        status, _ = http_get(tcp(), "/v1/rooms/room:lobby", token)
        self.assertNotEqual(status, 200, "/v1 must not be served on admin.listen")
        status, _ = http_get(UnixHTTPConnection(control), "/v1/rooms/room:lobby")
        self.assertEqual(status, 401, "the control socket still needs the token")


def find(docs, kind, name=None):
    return next(d for d in docs if d.get("kind") == kind
                and (name is None or d["metadata"]["name"] == name))


def container(docs, name):
    return next(c for c in find(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
                if c["name"] == name)


class Mistakes(unittest.TestCase):
    """Each checker, given a manifest broken in memory, reports what was broken."""

    def setUp(self):
        self.docs = copy.deepcopy(load_k8s())

    def assertReports(self, problems: list[str], *words: str):
        self.assertTrue(any(all(w in p for w in words) for p in problems),
                        f"no problem mentions {words}: {problems}")

    def test_checkers_pass_the_shipped_files_first(self):
        for check in K8S_CHECKS:
            self.assertEqual(check(copy.deepcopy(self.docs)), [], check.__name__)
        for check in COMPOSE_CHECKS:
            self.assertEqual(check(load_compose()), [], check.__name__)

    def test_probe_on_a_wrong_port_name(self):
        container(self.docs, "wsgated")["readinessProbe"]["httpGet"]["port"] = "adm"
        self.assertReports(check_k8s_probes(self.docs), "readinessProbe", "'adm'")

    def test_probe_on_the_ws_port(self):
        container(self.docs, "wsgated")["livenessProbe"]["httpGet"]["port"] = "ws"
        self.assertReports(check_k8s_probes(self.docs), "livenessProbe", "8080")

    def test_probe_on_a_wrong_path(self):
        container(self.docs, "wsgated")["readinessProbe"]["httpGet"]["path"] = "/healthz"
        self.assertReports(check_k8s_probes(self.docs), "readinessProbe", "/readyz")

    def test_missing_volume(self):
        spec = find(self.docs, "Deployment")["spec"]["template"]["spec"]
        spec["volumes"] = [v for v in spec["volumes"] if v["name"] != "shared"]
        self.assertReports(check_k8s_volumes(self.docs), "'shared'", "not declared")
        self.assertReports(check_k8s_sockets(self.docs), "not an emptyDir")

    def test_socket_outside_the_emptydir(self):
        for m in container(self.docs, "wsgated")["volumeMounts"]:
            if m["name"] == "shared":
                m["mountPath"] = "/run/shared"
        self.assertReports(check_k8s_sockets(self.docs), "/shared/app.sock", "no volumeMount")

    def test_app_names_another_socket(self):
        for e in container(self.docs, "app")["env"]:
            if e.get("value") == "/shared/app.sock":
                e["value"] = "/shared/backend.sock"
        problems = check_k8s_sockets(self.docs)
        self.assertReports(problems, "backends.app.url", "names that socket")
        self.assertReports(problems, "/shared/backend.sock", "no socket of the config")

    def test_config_moves_the_admin_port(self):
        cm = find(self.docs, "ConfigMap")
        cm["data"]["gateway.yaml"] = cm["data"]["gateway.yaml"].replace("0.0.0.0:9090",
                                                                        "0.0.0.0:9100")
        self.assertReports(check_k8s_ports(self.docs), "9100", "not a containerPort")
        self.assertReports(check_k8s_probes(self.docs), "admin.listen", "9100")
        self.assertReports(check_k8s_monitoring(self.docs), "prometheus.io/port", "9100")
        self.assertReports(check_k8s_monitoring(self.docs), "ServiceMonitor", "not admin.listen")

    def test_admin_on_loopback(self):
        cm = find(self.docs, "ConfigMap")
        cm["data"]["gateway.yaml"] = cm["data"]["gateway.yaml"].replace("0.0.0.0:9090",
                                                                        "127.0.0.1:9090")
        self.assertReports(check_k8s_ports(self.docs), "admin.listen", "loopback")

    def test_container_port_without_listener(self):
        container(self.docs, "wsgated")["ports"].append({"name": "tls", "containerPort": 8443})
        self.assertReports(check_k8s_ports(self.docs), "8443", "no listener")

    def test_grace_period_too_short(self):
        find(self.docs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 33
        self.assertReports(check_k8s_grace(self.docs), "33", "preStop sleep (5s)")

    def test_no_prestop(self):
        del container(self.docs, "wsgated")["lifecycle"]
        self.assertReports(check_k8s_grace(self.docs), "no preStop")

    def test_service_target_port_names_nothing(self):
        find(self.docs, "Service", "app-with-wsgated")["spec"]["ports"][0]["targetPort"] = "wss"
        self.assertReports(check_k8s_services(self.docs), "targetPort 'wss'")

    def test_service_selects_nothing(self):
        find(self.docs, "Service", "app-with-wsgated")["spec"]["selector"] = {"app": "other"}
        self.assertReports(check_k8s_services(self.docs), "selects no pod")

    def test_service_monitor_wrong_port_and_path(self):
        ep = find(self.docs, "ServiceMonitor")["spec"]["endpoints"][0]
        ep["port"], ep["path"] = "ws", "/stats"
        problems = check_k8s_monitoring(self.docs)
        self.assertReports(problems, "no port named 'ws'")
        self.assertReports(problems, "/stats")

    def test_service_monitor_selects_no_service(self):
        find(self.docs, "ServiceMonitor")["spec"]["selector"]["matchLabels"] = {"x": "y"}
        self.assertReports(check_k8s_monitoring(self.docs), "matches no Service")

    def test_annotation_wrong_port(self):
        ann = find(self.docs, "Deployment")["spec"]["template"]["metadata"]["annotations"]
        ann["prometheus.io/port"] = "8080"
        self.assertReports(check_k8s_monitoring(self.docs), "prometheus.io/port", "'8080'")

    def test_pdb_selector_mismatch(self):
        find(self.docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] = {"app": "x"}
        problems = check_k8s_disruption(self.docs)
        self.assertReports(problems, "matches no pod")
        self.assertReports(problems, "no PodDisruptionBudget")

    def test_token_as_a_literal(self):
        for e in container(self.docs, "wsgated")["env"]:
            if e["name"] == "WSGATED_ADMIN_TOKEN":
                e.pop("valueFrom")
                e["value"] = "plain-text"
        self.assertReports(check_k8s_env(self.docs), "not a secretKeyRef")

    def test_app_without_token(self):
        c = container(self.docs, "app")
        c["env"] = [e for e in c["env"] if e["name"] != "WSGATED_ADMIN_TOKEN"]
        self.assertReports(check_k8s_env(self.docs), "app", "admin token")

    def test_variable_not_set(self):
        c = container(self.docs, "wsgated")
        c["env"] = [e for e in c["env"] if e["name"] != "WSGATED_ADMIN_TOKEN"]
        self.assertReports(check_k8s_env(self.docs), "${WSGATED_ADMIN_TOKEN}", "does not set")

    def test_config_with_an_error_fails_check(self):
        cm = find(self.docs, "ConfigMap")
        cm["data"]["gateway.yaml"] += "bogus_key: 1\n"
        self.assertReports(check_k8s_configs_pass(self.docs), "bogus_key", "unknown key")

    # --- compose

    def compose(self, name: str, edit=None, files: dict[str, str] | None = None) -> list[Compose]:
        path = ROOT / "docker" / name
        doc = yaml.safe_load(path.read_text())
        if edit:
            edit(doc)
        return [Compose(path, doc, files)]

    def test_compose_publishes_a_port_nothing_listens_on(self):
        def edit(doc):
            doc["services"]["wsgated"]["ports"][0] = "8080:8081"
        self.assertReports(check_compose_ports(self.compose("compose.yaml", edit)), "8081")

    def test_compose_listener_on_loopback(self):
        cfg = str(ROOT / "docker" / "gateway.yaml")
        text = Path(cfg).read_text().replace("0.0.0.0:8080", "127.0.0.1:8080")
        self.assertReports(check_compose_ports(self.compose("compose.yaml", files={cfg: text})),
                           "loopback")

    def test_compose_volume_not_declared(self):
        def edit(doc):
            doc.pop("volumes")
        self.assertReports(check_compose_volumes(self.compose("compose.yaml", edit)),
                           "'shared'", "not declared")

    def test_compose_socket_not_shared(self):
        def edit(doc):
            doc["services"]["app"]["volumes"] = ["../examples/python:/app:ro"]
        self.assertReports(check_compose_sockets(self.compose("compose.yaml", edit)),
                           "/shared/app.sock", "no other service")

    def test_compose_grace_too_short(self):
        def edit(doc):
            doc["services"]["wsgated"]["stop_grace_period"] = "30s"
        self.assertReports(check_compose_grace(self.compose("compose.yaml", edit)), "30s")

    def test_compose_descriptor_limit_too_low(self):
        def edit(doc):
            doc["services"]["wsgated"]["ulimits"] = {"nofile": {"soft": 1024, "hard": 1048576}}
        self.assertReports(check_compose_fds(self.compose("compose.yaml", edit)), "1024", "100064")

    def test_compose_admin_url_wrong_port(self):
        def edit(doc):
            doc["services"]["app"]["environment"]["WSGATED_ADMIN_URL"] = "http://wsgated:9000"
        self.assertReports(check_compose_urls(self.compose("compose.yaml", edit)), "9000")

    def test_compose_healthcheck_misses_moved_admin(self):
        cfg = str(ROOT / "docker" / "gateway.yaml")
        text = Path(cfg).read_text().replace("0.0.0.0:9090", "0.0.0.0:9100")
        problems = check_compose_ports(self.compose("compose.yaml", files={cfg: text}))
        self.assertReports(problems, "HEALTHCHECK", "9100")
        self.assertReports(problems, "9090", "no listener")

    def test_compose_missing_config_file(self):
        def edit(doc):
            doc["services"]["wsgated"]["volumes"][0] = "./nope.yaml:/etc/wsgated/gateway.yaml:ro"
        projects = self.compose("compose.yaml", edit)
        self.assertReports(check_compose_ports(projects), "nope.yaml", "does not exist")
        self.assertReports(check_compose_volumes(projects), "nope.yaml", "does not exist")

    def test_cluster_nodes_with_one_node_id(self):
        def edit(doc):
            doc["services"]["wsgated-b"]["environment"]["WSGATED_NODE_ID"] = "wsgated-a"
        self.assertReports(check_compose_cluster(self.compose("compose.cluster.yaml", edit)),
                           "distinct")

    def test_cluster_nodes_with_different_redis(self):
        cfg = str(ROOT / "docker" / "gateway.cluster.yaml")
        text = Path(cfg).read_text()

        def edit(doc):
            doc["services"]["wsgated-b"]["volumes"] = ["./gateway.b.yaml:/etc/wsgated/gateway.yaml:ro"]
        other = str(ROOT / "docker" / "gateway.b.yaml")
        files = {cfg: text, other: text.replace("redis://redis:6379/0", "redis://redis:6379/1")}
        self.assertReports(check_compose_cluster(self.compose("compose.cluster.yaml", edit, files)),
                           "different cluster.redis")

    def test_cluster_redis_not_a_service(self):
        def edit(doc):
            doc["services"]["cache"] = doc["services"].pop("redis")
        self.assertReports(check_compose_cluster(self.compose("compose.cluster.yaml", edit)),
                           "'redis'", "not a service")

    def test_compose_config_with_an_error_fails_check(self):
        cfg = str(ROOT / "docker" / "gateway.yaml")
        text = Path(cfg).read_text() + "bogus_key: 1\n"
        self.assertReports(check_compose_configs_pass(self.compose("compose.yaml", files={cfg: text})),
                           "bogus_key", "unknown key")


if __name__ == "__main__":
    unittest.main()
