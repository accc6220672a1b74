import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { Backend, Bind, GatewayConfig, McpTarget, Route } from '../config/types.js';

/**
 * Turns synthesized Kubernetes manifests into a gateway configuration that runs on a developer's
 * machine: the gateway ConfigMap's routes are kept, and every target that points at an in-cluster
 * stdio `McpServer` (a pod whose entrypoint is the bridge, `mcp-gateway --port P -- CMD ARGS`, run through
 * its copied loader: `/mcp-bridge/lib/ld.so --library-path /mcp-bridge/lib /mcp-bridge/mcp-gateway ...`)
 * is replaced by that command as a local stdio target. What cannot run locally is reported, not hidden.
 */
export interface DevPlan {
  readonly config: GatewayConfig;
  /** Where the configuration came from: `<file>: ConfigMap <namespace>/<name>`. */
  readonly source: string;
  /** One line per decision a person should know about (targets rewritten, skipped, env not set). */
  readonly notes: string[];
}

export interface DevPlanOptions {
  /** Name of the gateway ConfigMap to run when the manifests hold several. */
  readonly gateway?: string;
  /** Listen on this port instead of the one in the manifests. */
  readonly port?: number;
  /** Environment the local stdio servers inherit values from (for env that comes from Secrets). */
  readonly env?: NodeJS.ProcessEnv;
}

interface K8sObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly spec?: any;
  readonly data?: Record<string, string>;
}

interface LoadedObject {
  readonly file: string;
  readonly object: K8sObject;
}

interface BridgedServer {
  readonly deployment: string;
  readonly namespace?: string;
  readonly podLabels: Record<string, string>;
  readonly cmd: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly missingEnv: string[];
  /** The bridge's `--credential-env`: the variable each session's process gets its user's credential in. */
  readonly credentialEnv?: string;
}

const CONFIG_KEY = 'config.yaml';

export function planFromManifests(path: string, options: DevPlanOptions = {}): DevPlan {
  const objects = loadObjects(path);
  if (objects.length === 0) {
    throw new Error(`${path}: no Kubernetes manifests found (expected *.yaml, *.yml or *.json written by 'cdk8s synth' or 'npm run synth')`);
  }
  const gatewayMap = pickGatewayConfigMap(objects, options.gateway);
  const notes: string[] = [];
  const source = `${gatewayMap.file}: ConfigMap ${qualified(gatewayMap.object)}`;
  let config: GatewayConfig;
  try {
    config = parseYaml(gatewayMap.object.data![CONFIG_KEY]) as GatewayConfig;
  } catch (err) {
    throw new Error(`${source}: data.${CONFIG_KEY} is not valid YAML: ${(err as Error).message}`);
  }

  const bridged = findBridgedServers(objects, options.env ?? process.env);
  const services = objects.filter((o) => o.object.kind === 'Service' && o.object.apiVersion === 'v1');

  const rewriteTarget = (target: McpTarget, where: string): McpTarget => {
    const http = target.mcp ?? target.sse;
    if (!http) return target;
    // `host` is a full URL, or a bare host with `port`/`path` beside it.
    const url = safeUrl(http.host) ?? safeUrl(`http://${http.host}`);
    if (!url) return target;
    const service = services.find((s) => serviceMatchesHost(s.object, url.hostname));
    if (!service) return target;
    const server = bridged.find((b) => selects(service.object.spec?.selector, b.podLabels) && sameNamespace(service.object, b.namespace));
    if (!server) {
      notes.push(
        `${where}: target "${target.name}" is Service ${qualified(service.object)}, which does not run a stdio bridge; it is unreachable outside `
          + 'the cluster',
      );
      return target;
    }
    for (const name of server.missingEnv) {
      notes.push(`${where}: target "${target.name}" expects ${name} from a Secret or ConfigMap; set it in your environment to pass it on`);
    }
    notes.push(`${where}: target "${target.name}" runs locally as: ${[server.cmd, ...server.args].join(' ')}`);
    // Run locally, the gateway starts the process itself and puts the user's credential where the bridge would.
    const credential =
      target.credential && server.credentialEnv ? { provider: target.credential.provider, inject: { env: server.credentialEnv } } : undefined;
    return { name: target.name, stdio: { cmd: server.cmd, args: server.args, env: server.env }, ...(credential ? { credential } : {}) };
  };

  const rewriteBackend = (backend: Backend, where: string): Backend => ({
    ...backend,
    mcp: { ...backend.mcp, targets: backend.mcp.targets.map((t) => rewriteTarget(t, where)) },
  });

  const binds: Bind[] | undefined = config.binds?.map((bind, b) => ({
    ...bind,
    port: options.port ?? bind.port,
    listeners: bind.listeners.map((listener, l) => ({
      ...listener,
      routes: listener.routes.map((route: Route, r) => ({
        ...route,
        backends: route.backends.map((backend, k) =>
          rewriteBackend(backend, `binds[${b}].listeners[${l}].routes[${r}]${route.name ? ` (${route.name})` : ''}.backends[${k}]`),
        ),
      })),
    })),
  }));
  const mcp = config.mcp
    ? { ...config.mcp, port: options.port ?? config.mcp.port, targets: config.mcp.targets.map((t) => rewriteTarget(t, 'mcp')) }
    : undefined;

  // In the pod the metrics port listens on every interface for Prometheus; on a laptop nothing needs that.
  const settings = config.config?.statsAddr ? { ...config.config, statsAddr: onLoopback(config.config.statsAddr) } : config.config;

  return {
    config: { ...config, ...(settings ? { config: settings } : {}), ...(binds ? { binds } : {}), ...(mcp ? { mcp } : {}) },
    source,
    notes,
  };
}

function onLoopback(address: string): string {
  const port = address.slice(address.lastIndexOf(':') + 1);
  return `127.0.0.1:${port}`;
}

function loadObjects(path: string): LoadedObject[] {
  const files = statSync(path).isDirectory() ? listManifestFiles(path) : [path];
  const objects: LoadedObject[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) {
        throw new Error(`${file}: ${doc.errors[0].message}`);
      }
      const value = doc.toJS() as K8sObject | K8sObject[] | null;
      for (const object of Array.isArray(value) ? value : value ? [value] : []) {
        if (object && typeof object === 'object' && object.kind) objects.push({ file, object });
      }
    }
  }
  return objects;
}

function listManifestFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listManifestFiles(full));
    else if (['.yaml', '.yml', '.json'].includes(extname(entry.name))) out.push(full);
  }
  return out;
}

function pickGatewayConfigMap(objects: LoadedObject[], wanted?: string): LoadedObject {
  const candidates = objects.filter((o) => o.object.kind === 'ConfigMap' && typeof o.object.data?.[CONFIG_KEY] === 'string');
  if (candidates.length === 0) {
    throw new Error(`no gateway configuration found: expected a ConfigMap with a "${CONFIG_KEY}" key, as McpGateway synthesizes`);
  }
  if (wanted) {
    const match = candidates.find((c) => c.object.metadata?.name === wanted);
    if (!match) {
      throw new Error(`no gateway ConfigMap named "${wanted}"; found: ${candidates.map((c) => c.object.metadata?.name).join(', ')}`);
    }
    return match;
  }
  if (candidates.length > 1) {
    throw new Error(`several gateway ConfigMaps found (${candidates.map((c) => c.object.metadata?.name).join(', ')}); pick one with --gateway NAME`);
  }
  return candidates[0];
}

function findBridgedServers(objects: LoadedObject[], env: NodeJS.ProcessEnv): BridgedServer[] {
  const servers: BridgedServer[] = [];
  for (const { object } of objects) {
    if (object.kind !== 'Deployment' && object.kind !== 'StatefulSet') continue;
    const template = object.spec?.template;
    for (const container of template?.spec?.containers ?? []) {
      const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])];
      if (!isBridge(argv)) continue;
      const separator = argv.indexOf('--');
      const local: Record<string, string> = {};
      const missing: string[] = [];
      for (const variable of container.env ?? []) {
        if (typeof variable.value === 'string') local[variable.name] = variable.value;
        else if (env[variable.name] !== undefined) local[variable.name] = env[variable.name]!;
        else missing.push(variable.name);
      }
      servers.push({
        deployment: object.metadata?.name ?? '',
        namespace: object.metadata?.namespace,
        podLabels: template?.metadata?.labels ?? {},
        cmd: argv[separator + 1],
        args: argv.slice(separator + 2),
        env: withoutClusterPaths(local),
        missingEnv: missing,
        credentialEnv: optionValue(argv.slice(0, separator), '--credential-env'),
      });
    }
  }
  return servers;
}

/**
 * The bridge's argv: the `mcp-gateway` executable (run directly, or as the program of its copied loader)
 * somewhere before the first `--`, and a command after it.
 */
export function isBridge(argv: readonly string[]): boolean {
  const separator = argv.indexOf('--');
  if (separator < 0 || separator === argv.length - 1) return false;
  return argv.slice(0, separator).some((word) => /(^|\/)mcp-gateway$/.test(word));
}

function optionValue(argv: readonly string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  return index >= 0 ? argv[index + 1] : undefined;
}

/** HOME and caches point at pod volumes (`/home/mcp`); locally the developer's own are right. */
function withoutClusterPaths(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (['HOME', 'XDG_CACHE_HOME', 'npm_config_cache', 'UV_CACHE_DIR', 'TMPDIR'].includes(name)) continue;
    out[name] = value;
  }
  return out;
}

function serviceMatchesHost(service: K8sObject, hostname: string): boolean {
  const name = service.metadata?.name;
  if (!name) return false;
  const [first, second] = hostname.split('.');
  if (first !== name) return false;
  // `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`
  return second === undefined || second === (service.metadata?.namespace ?? second);
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function sameNamespace(service: K8sObject, namespace: string | undefined): boolean {
  return (service.metadata?.namespace ?? '') === (namespace ?? '');
}

function qualified(object: K8sObject): string {
  const ns = object.metadata?.namespace;
  return ns ? `${ns}/${object.metadata?.name}` : `${object.metadata?.name}`;
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
