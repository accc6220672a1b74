import { accessSync, constants, readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { checkCredentials, resolveCredentials } from './credentials.js';
import { parseDuration } from './duration.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { ResolvedBackend, ResolvedBind, ResolvedConfig, ResolvedListener, ResolvedRoute, ResolvedTracing } from './model.js';
import { configSchema } from './schema.generated.js';
import type { Bind, GatewayConfig, HttpTarget, McpBackend, McpTarget, Route, RoutePolicies, TracingSettings } from './types.js';

export const TARGET_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SHORTHAND_DEFAULT_PORT = 3000;
const MIB = 1024 * 1024;

export interface LoadOptions {
  /**
   * The configuration was built by this program (the bridge command line), not written by a person: the
   * JSON Schema pass is skipped, which spares the bridge loading ajv. Semantic checks still run.
   */
  readonly generated?: boolean;
}

/** Compiles the schema once per loader, on first use: schema compilation is the slow part of ajv, validation is cheap. */
export class ConfigLoader {
  private validator?: Promise<ValidateFunction>;

  /** Reads, validates and normalises a YAML or JSON file. Throws ConfigError listing every problem. */
  async loadFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError([{ path: '', message: `cannot read the file: ${(error as Error).message}` }], file);
    }
    return this.loadText(text, file, env);
  }

  async loadText(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
    // YAML is a superset of JSON, so one parser serves both formats.
    const { parseDocument } = await import('yaml');
    const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (document.errors.length > 0) {
      throw new ConfigError(
        document.errors.map((e) => ({ path: '', message: `not valid YAML/JSON: ${e.message.split('\n')[0]}` })),
        source,
      );
    }
    return this.loadObject(document.toJS() ?? {}, source, env);
  }

  async loadObject(value: unknown, source: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Promise<ResolvedConfig> {
    if (!options.generated) {
      const validate = await this.schemaValidator();
      if (!validate(value)) throw new ConfigError(schemaIssues(validate.errors ?? []), source);
    }
    const config = value as GatewayConfig;
    const issues: ConfigIssue[] = [];
    checkSemantics(config, issues, env);
    if (issues.length > 0) throw new ConfigError(issues, source);
    return resolve(config, source, env, issues, options);
  }

  private schemaValidator(): Promise<ValidateFunction> {
    this.validator ??= import('ajv/dist/2020.js').then(({ Ajv2020 }) => new Ajv2020({ allErrors: true, strict: false }).compile(configSchema));
    return this.validator;
  }
}

function pathOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, segment) => (/^[0-9]+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment), '');
}

function schemaIssues(errors: readonly ErrorObject[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    // A value matching no branch of an anyOf gets one error per branch; one summary line reads better.
    if (error.keyword !== 'anyOf' && error.schemaPath.includes('/anyOf/')) continue;
    let path = pathOf(error.instancePath);
    let message: string;
    switch (error.keyword) {
      case 'additionalProperties': {
        const field = (error.params as { additionalProperty: string }).additionalProperty;
        path = path ? `${path}.${field}` : field;
        message = 'unknown field';
        break;
      }
      case 'required': {
        const field = (error.params as { missingProperty: string }).missingProperty;
        path = path ? `${path}.${field}` : field;
        message = 'is required';
        break;
      }
      case 'enum':
        message = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'pattern':
        message = /duration|Ttl|Timeout|Skew|maxAge/i.test(path)
          ? 'must be a duration such as 500ms, 30s, 10m or 1h30m'
          : `must match ${(error.params as { pattern: string }).pattern}`;
        break;
      case 'anyOf':
        message = 'has none of the accepted shapes';
        break;
      default:
        message = error.message ?? 'is invalid';
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message });
  }
  return issues;
}

function checkSemantics(config: GatewayConfig, issues: ConfigIssue[], env: NodeJS.ProcessEnv): void {
  const settings = config.config;
  const durations: Array<[string, string | undefined]> = [
    ['config.mcp.sessionTtl', settings?.mcp?.sessionTtl],
    ['config.limits.upstreamTimeout', settings?.limits?.upstreamTimeout],
    ['config.limits.bodyTimeout', settings?.limits?.bodyTimeout],
    ['config.limits.sessionLifetime', settings?.limits?.sessionLifetime],
    ['config.drainTimeout', settings?.drainTimeout],
  ];
  for (const [path, value] of durations) {
    if (value !== undefined && !parseDuration(value)) issues.push({ path, message: 'must be a positive duration' });
  }
  if (!config.binds && !config.mcp) issues.push({ path: '', message: 'needs `binds` or `mcp`' });
  checkCredentials(config, issues, env);
  config.binds?.forEach((bind, b) => checkBind(bind, `binds[${b}]`, issues, env));
  if (config.mcp) {
    checkTargets(config.mcp.targets, 'mcp.targets', issues, env);
    checkPolicies(config.mcp.policies, 'mcp.policies', issues);
  }
  const ports = new Map<number, string>();
  config.binds?.forEach((bind, b) => {
    if (bind.port !== 0 && ports.has(bind.port)) {
      issues.push({ path: `binds[${b}].port`, message: `port ${bind.port} is already used by ${ports.get(bind.port)}` });
    }
    ports.set(bind.port, `binds[${b}]`);
  });
}

function checkBind(bind: Bind, path: string, issues: ConfigIssue[], env: NodeJS.ProcessEnv): void {
  const exactPaths = new Map<string, string>();
  bind.listeners.forEach((listener, l) => {
    listener.routes.forEach((route, r) => {
      const routePath = `${path}.listeners[${l}].routes[${r}]`;
      checkRoute(route, routePath, issues, env);
      route.matches?.forEach((match, m) => {
        const exact = match.path?.exact;
        if (exact === undefined || match.headers || match.method) return;
        const key = `${listener.hostname ?? '*'} ${exact}`;
        const previous = exactPaths.get(key);
        if (previous) {
          issues.push({ path: `${routePath}.matches[${m}].path.exact`, message: `path ${exact} is already matched exactly by ${previous}` });
        } else {
          exactPaths.set(key, routePath);
        }
      });
    });
  });
}

function checkRoute(route: Route, path: string, issues: ConfigIssue[], env: NodeJS.ProcessEnv): void {
  route.matches?.forEach((match, m) => {
    checkRegex(match.path?.regex, `${path}.matches[${m}].path.regex`, issues);
    match.headers?.forEach((header, h) => checkRegex(header.value.regex, `${path}.matches[${m}].headers[${h}].value.regex`, issues));
  });
  route.backends.forEach((backend, b) => {
    const backendPath = `${path}.backends[${b}].mcp`;
    checkTargets(backend.mcp.targets, `${backendPath}.targets`, issues, env);
    checkStdioPool(backend.mcp, backendPath, issues);
  });
  checkPolicies(route.policies, `${path}.policies`, issues);
}

function checkStdioPool(backend: McpBackend, path: string, issues: ConfigIssue[]): void {
  const idle = backend.stdio?.idleTimeout;
  if (idle !== undefined && !parseDuration(idle)) issues.push({ path: `${path}.stdio.idleTimeout`, message: 'must be a positive duration' });
}

function checkPolicies(policies: RoutePolicies | undefined, path: string, issues: ConfigIssue[]): void {
  policies?.localRateLimit?.forEach((bucket, index) => {
    if (!parseDuration(bucket.fillInterval)) {
      issues.push({ path: `${path}.localRateLimit[${index}].fillInterval`, message: 'must be a positive duration' });
    }
  });
  const skew = policies?.mcpAuthentication?.clockSkew;
  if (skew !== undefined && parseDuration(skew) === undefined) {
    issues.push({ path: `${path}.mcpAuthentication.clockSkew`, message: 'must be a duration' });
  }
  const cors = policies?.cors;
  if (cors?.allowCredentials === true && cors.allowOrigins?.includes('*')) {
    issues.push({
      path: `${path}.cors.allowCredentials`,
      message: 'cannot be true with allowOrigins "*" (any web page could call the route with its users\' credentials); list the origins instead',
    });
  }
  const auth = policies?.mcpAuthentication;
  if (auth?.jwks !== undefined && auth.jwksUrl !== undefined) {
    issues.push({ path: `${path}.mcpAuthentication.jwksUrl`, message: 'give either `jwks` or the older `jwksUrl`, not both' });
  }
}

function checkRegex(source: string | undefined, path: string, issues: ConfigIssue[]): void {
  if (source === undefined) return;
  try {
    new RegExp(source);
  } catch (error) {
    issues.push({ path, message: `not a valid regular expression: ${(error as Error).message}` });
  }
}

function checkTargets(targets: readonly McpTarget[], path: string, issues: ConfigIssue[], env: NodeJS.ProcessEnv): void {
  const names = new Map<string, number>();
  targets.forEach((target, t) => {
    const targetPath = `${path}[${t}]`;
    if (!TARGET_NAME_PATTERN.test(target.name)) {
      const reserved = /[_+]/.test(target.name) ? " ('_' and '+' are reserved MCP delimiters)" : '';
      issues.push({
        path: `${targetPath}.name`,
        message: `"${target.name}" must be lower-case letters, digits, '-' and '.', starting and ending with a letter or digit${reserved}`,
      });
    }
    const first = names.get(target.name);
    if (first !== undefined) issues.push({ path: `${targetPath}.name`, message: `duplicate target name "${target.name}" (also ${path}[${first}])` });
    else names.set(target.name, t);
    const kinds = (['stdio', 'mcp', 'sse'] as const).filter((kind) => target[kind] !== undefined);
    if (kinds.length !== 1) {
      issues.push({
        path: targetPath,
        message:
          kinds.length === 0
            ? 'needs exactly one of `stdio`, `mcp` or `sse`'
            : `has ${kinds.join(' and ')}: give exactly one of \`stdio\`, \`mcp\` or \`sse\``,
      });
    }
    const pool = target.stdio?.pool;
    if (pool?.idleTimeout !== undefined && !parseDuration(pool.idleTimeout)) {
      issues.push({ path: `${targetPath}.stdio.pool.idleTimeout`, message: 'must be a positive duration' });
    }
    if (pool?.size !== undefined && pool.maxProcesses !== undefined && pool.size > pool.maxProcesses) {
      issues.push({
        path: `${targetPath}.stdio.pool.size`,
        message: `${pool.size} spares cannot fit under pool.maxProcesses = ${pool.maxProcesses}; lower size or raise maxProcesses`,
      });
    }
    if (target.stdio && target.policies) {
      issues.push({
        path: `${targetPath}.policies`,
        message: 'policies are not supported on stdio targets (there is no backend connection to apply them to)',
      });
    }
    for (const kind of ['mcp', 'sse'] as const) {
      const http = target[kind];
      if (http) checkHttpTarget(http, `${targetPath}.${kind}`, issues);
    }
    const key = target.policies?.backendAuth?.key;
    if (key?.file !== undefined) {
      try {
        accessSync(key.file, constants.R_OK);
      } catch {
        issues.push({ path: `${targetPath}.policies.backendAuth.key.file`, message: `cannot read ${key.file}` });
      }
    }
    if (key?.env !== undefined && env[key.env] === undefined) {
      issues.push({ path: `${targetPath}.policies.backendAuth.key.env`, message: `environment variable ${key.env} is not set` });
    }
  });
}

function checkHttpTarget(target: HttpTarget, path: string, issues: ConfigIssue[]): void {
  try {
    const url = new URL(httpTargetUrl(target, 'mcp'));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') issues.push({ path: `${path}.host`, message: 'scheme must be http or https' });
  } catch {
    issues.push({ path: `${path}.host`, message: `"${target.host}" is neither a URL nor a host name` });
  }
  if (!/^[a-z]+:\/\//i.test(target.host) && target.port === undefined) {
    issues.push({ path: `${path}.port`, message: 'is required when `host` is a host name rather than a URL' });
  }
}

/** Full URL of an HTTP target; an empty path means `/mcp` (Streamable HTTP) or `/sse` (legacy SSE), as agentgateway. */
export function httpTargetUrl(target: HttpTarget, kind: 'mcp' | 'sse'): string {
  const defaultPath = kind === 'mcp' ? '/mcp' : '/sse';
  if (/^[a-z]+:\/\//i.test(target.host)) {
    const url = new URL(target.host);
    if (target.port !== undefined) url.port = String(target.port);
    if (target.path !== undefined) url.pathname = target.path;
    else if (url.pathname === '/' || url.pathname === '') url.pathname = defaultPath;
    return url.toString();
  }
  const path = target.path && target.path !== '' ? target.path : defaultPath;
  return `http://${target.host}:${target.port ?? 80}${path.startsWith('/') ? path : `/${path}`}`;
}

function resolve(config: GatewayConfig, source: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[], options: LoadOptions): ResolvedConfig {
  const settings = config.config;
  // The bridge is one stdio server in its own pod: no admin page or metrics port unless a config file asks.
  const statsAddr = options.generated ? undefined : listenAddress(settings?.statsAddr ?? '0.0.0.0:15020', 'config.statsAddr', issues);
  const adminAddr = options.generated ? undefined : listenAddress(settings?.adminAddr ?? '127.0.0.1:15000', 'config.adminAddr', issues);
  const tracing = settings?.tracing ? resolveTracing(settings.tracing, issues) : undefined;
  if (issues.length > 0) throw new ConfigError(issues, source);
  const keyHex = settings?.session?.key ?? env.SESSION_KEY;
  if (keyHex !== undefined && !/^[0-9a-fA-F]{64}$/.test(keyHex)) {
    issues.push({ path: settings?.session?.key ? 'config.session.key' : 'SESSION_KEY (environment)', message: 'must be 64 hex characters' });
    throw new ConfigError(issues, source);
  }
  const binds: Array<{ port: number; listeners: ResolvedListener[] }> = (config.binds ?? []).map((bind, b) => ({
    port: bind.port,
    listeners: bind.listeners.map((listener, l) => ({
      name: listener.name,
      hostname: listener.hostname,
      routes: listener.routes.map((route, r) => resolveRoute(route, `binds[${b}].listeners[${l}].routes[${r}]`, bind.port)),
    })),
  }));
  if (config.mcp) {
    const shorthand = config.mcp;
    const port = shorthand.port ?? SHORTHAND_DEFAULT_PORT;
    const route = resolveRoute(
      {
        name: 'mcp',
        matches: [{ path: { pathPrefix: '/mcp' } }, { path: { pathPrefix: '/sse' } }, { path: { pathPrefix: '/.well-known' } }],
        backends: [
          {
            mcp: {
              targets: shorthand.targets,
              statefulMode: shorthand.statefulMode,
              prefixMode: shorthand.prefixMode,
              failureMode: shorthand.failureMode,
              serverInfo: shorthand.serverInfo,
            },
          },
        ],
        policies: shorthand.policies,
      },
      'mcp',
      port,
    );
    const existing = binds.find((bind) => bind.port === port);
    if (existing) existing.listeners.push({ routes: [route] });
    else binds.push({ port, listeners: [{ routes: [route] }] });
  }
  return {
    source,
    settings: {
      sessionKey: keyHex !== undefined ? Buffer.from(keyHex, 'hex') : undefined,
      sessionTtlMs: parseDuration(settings?.mcp?.sessionTtl ?? '30m')!,
      maxBodyBytes: settings?.limits?.maxBodyBytes ?? 4 * MIB,
      bodyTimeoutMs: parseDuration(settings?.limits?.bodyTimeout ?? '30s')!,
      upstreamTimeoutMs: parseDuration(settings?.limits?.upstreamTimeout ?? '60s')!,
      maxReplayBytes: settings?.limits?.maxReplayBytes ?? 4 * MIB,
      maxBatchSize: settings?.limits?.maxBatchSize ?? 64,
      maxSessions: settings?.limits?.maxSessions ?? 10_000,
      maxSessionsPerSubject: settings?.limits?.maxSessionsPerSubject ?? 500,
      sessionLifetimeMs: parseDuration(settings?.limits?.sessionLifetime ?? '24h')!,
      drainTimeoutMs: parseDuration(settings?.drainTimeout ?? '25s')!,
      logLevel: settings?.logging?.level ?? 'info',
      logFormat: settings?.logging?.format ?? 'json',
      statsAddr,
      adminAddr,
      tracing,
      credentials: resolveCredentials(config, env),
    },
    binds: binds as ResolvedBind[],
  };
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 picks a free one. */
function listenAddress(text: string, path: string, issues: ConfigIssue[]): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):([0-9]{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    issues.push({ path, message: `must be host:port (e.g. 127.0.0.1:15000), got "${text}"` });
    return undefined;
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

function resolveTracing(tracing: TracingSettings, issues: ConfigIssue[]): ResolvedTracing | undefined {
  let url: URL;
  try {
    url = new URL(tracing.otlpEndpoint);
  } catch {
    issues.push({ path: 'config.tracing.otlpEndpoint', message: `must be an http(s) URL, got "${tracing.otlpEndpoint}"` });
    return undefined;
  }
  // agentgateway takes the collector's base URL; the OTLP/HTTP exporter needs the traces path.
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return { url: url.toString(), serviceName: tracing.serviceName ?? 'mcp-gateway', sampleRatio: tracing.sampleRatio ?? 1 };
}

function resolveRoute(route: Route, configPath: string, port: number): ResolvedRoute {
  const mcp = route.backends[0].mcp;
  const name = route.name ?? configPath;
  const backend: ResolvedBackend = {
    name: mcp.name ?? route.name ?? configPath,
    targets: mcp.targets,
    statefulMode: mcp.statefulMode ?? 'stateful',
    prefixMode: mcp.prefixMode ?? 'conditional',
    failureMode: mcp.failureMode ?? 'failClosed',
    dnsRebindingProtection: mcp.dnsRebindingProtection,
    serverInfo: mcp.serverInfo,
    stdio: {
      maxProcesses: mcp.stdio?.maxProcesses ?? 64,
      idleTimeoutMs: parseDuration(mcp.stdio?.idleTimeout ?? '10m')!,
      maxRestartsPerMinute: mcp.stdio?.maxRestartsPerMinute ?? 5,
      // One subject may hold half the pool: an anonymous client cannot take every slot.
      maxProcessesPerSubject: mcp.stdio?.maxProcessesPerSubject ?? Math.ceil((mcp.stdio?.maxProcesses ?? 64) / 2),
      maxMessageBytes: mcp.stdio?.maxMessageBytes ?? 16 * MIB,
      warmup: mcp.stdio?.warmup ?? false,
    },
  };
  return {
    id: `${port}/${name}/${backend.name}`,
    name,
    configPath,
    matches: route.matches ?? [{ path: { pathPrefix: '/' } }],
    backend,
    cors: route.policies?.cors,
    authentication: route.policies?.mcpAuthentication,
    authorization: route.policies?.mcpAuthorization,
    rateLimits: (route.policies?.localRateLimit ?? []).map((bucket) => ({
      maxTokens: bucket.maxTokens,
      tokensPerFill: bucket.tokensPerFill ?? 1,
      fillIntervalMs: parseDuration(bucket.fillInterval)!,
      per: bucket.per ?? 'route',
    })),
  };
}
