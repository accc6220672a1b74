/**
 * Checks synthesized manifests against real schemas, so tests catch what `kubectl apply` would reject.
 *
 * - Built-in kinds (`v1`, `apps/v1`, `networking.k8s.io/v1`, `autoscaling/v2`, `policy/v1`, ...) are
 *   checked with the validators that ship with the `kubernetes-models` package. Those validators accept
 *   unknown fields (the API server prunes or rejects them), so this module also reports every field the
 *   schema does not define.
 * - Custom resources are checked with ajv against the `openAPIV3Schema` of the matching CRD version in
 *   `../shared/crds` (beside the repository). Those CRDs are reference data that the project never copies
 *   in, so in a clone without them custom resources are reported as not checked instead of failing.
 *
 * Usage: `expectValidManifests(Testing.synth(chart))`.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import * as YAML from 'yaml';

/**
 * Folder with upstream CRD YAML files: `../shared/crds` beside the repository, absent in a user's clone.
 * `CDK8S_MCP_CRDS_DIR` points elsewhere (e.g. at a missing folder, to rehearse a clone without it).
 */
export const CRDS_DIR = process.env.CDK8S_MCP_CRDS_DIR
  ? path.resolve(process.env.CDK8S_MCP_CRDS_DIR)
  : path.resolve(__dirname, '../../../shared/crds');

/** One thing wrong with one object. */
export interface ManifestError {
  /** `Kind/name` of the object (index in the list when it has neither). */
  readonly object: string;
  /** Path of the offending field, e.g. `spec.template.spec.containers[0].image`; empty for the object itself. */
  readonly path: string;
  readonly message: string;
}

/** An object that could not be checked, and why. */
export interface ManifestSkip {
  readonly object: string;
  readonly reason: string;
}

export interface ValidateManifestsOptions {
  /** Where to find CRDs; tests of this module point it at a missing folder. Defaults to `CRDS_DIR`. */
  readonly crdsDir?: string;
}

export interface ValidationReport {
  /** True when no error was found (objects in `notChecked` do not make it false). */
  readonly valid: boolean;
  readonly errors: ManifestError[];
  /** `Kind/name` of every object that was checked against a schema. */
  readonly checked: string[];
  /** Custom resources whose CRD is not available here. */
  readonly notChecked: ManifestSkip[];
}

/**
 * Custom resources this project emits, and where their CRD lives under `CRDS_DIR`. A group/kind listed
 * here whose CRD file is missing is "not checked"; any apiVersion/kind not listed here and not built
 * into Kubernetes is an error.
 */
const CUSTOM_RESOURCE_FOLDERS: { [group: string]: { kinds: string[]; folder: string } } = {
  'gateway.networking.k8s.io': { kinds: ['Gateway', 'GatewayClass', 'HTTPRoute', 'ReferenceGrant'], folder: 'gateway-api-v1.6.1' },
  'kagent.dev': { kinds: ['MCPServer'], folder: 'kmcp' },
  'agentgateway.dev': { kinds: ['AgentgatewayBackend', 'AgentgatewayPolicy', 'AgentgatewayParameters'], folder: 'agentgateway' },
  // v2.1.x is the last kgateway line whose Backend has `type: MCP`; `kgateway-main` dropped it.
  'gateway.kgateway.dev': { kinds: ['Backend', 'TrafficPolicy', 'GatewayParameters'], folder: 'kgateway-v2.1.x' },
  'k8s.keycloak.org': { kinds: ['Keycloak', 'KeycloakRealmImport'], folder: 'keycloak-26.0.0' },
  'monitoring.coreos.com': { kinds: ['ServiceMonitor', 'PodMonitor'], folder: 'prometheus-operator' },
  'postgresql.cnpg.io': { kinds: ['Cluster', 'Database'], folder: 'cloudnative-pg-v1.30.0' },
};

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/**
 * Validates every object and collects every problem (it never stops at the first one).
 */
export function validateManifests(objects: any[], options: ValidateManifestsOptions = {}): ValidationReport {
  const crdsDir = options.crdsDir ?? CRDS_DIR;
  const errors: ManifestError[] = [];
  const checked: string[] = [];
  const notChecked: ManifestSkip[] = [];

  objects.forEach((object, index) => {
    const label = describe(object, index);
    const fail = (fieldPath: string, message: string) => errors.push({ object: label, path: fieldPath, message });

    if (!object || typeof object !== 'object' || Array.isArray(object)) {
      fail('', 'is not an object');
      return;
    }
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
      fail('', 'has no apiVersion and kind');
      return;
    }
    checkName(object, fail);

    const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
    const customResource = CUSTOM_RESOURCE_FOLDERS[group];
    if (customResource) {
      const outcome = validateCustomResource(object, crdsDir, customResource.kinds.includes(object.kind), fail);
      if (outcome === 'checked') checked.push(label);
      else if (outcome !== 'error') notChecked.push({ object: label, reason: outcome.notChecked });
      return;
    }
    if (validateBuiltIn(object, fail)) checked.push(label);
  });

  return { valid: errors.length === 0, errors, checked, notChecked };
}

/**
 * Fails (throws) with every error listed, one per line, when any object is invalid. Returns the report
 * so a test can also assert what was checked.
 */
export function expectValidManifests(objects: any[]): ValidationReport {
  if (!Array.isArray(objects) || objects.length === 0) {
    throw new Error('expectValidManifests: no objects given; did the chart synthesize anything?');
  }
  const report = validateManifests(objects);
  if (!report.valid) {
    const lines = report.errors.map(e => `  ${e.object}: ${e.path ? e.path + ': ' : ''}${e.message}`);
    throw new Error(`${report.errors.length} manifest error(s):\n${lines.join('\n')}`);
  }
  return report;
}

function describe(object: any, index: number): string {
  const kind = object?.kind ?? `object #${index}`;
  const name = object?.metadata?.name;
  return name ? `${kind}/${name}` : `${kind} #${index}`;
}

function checkName(object: any, fail: (fieldPath: string, message: string) => void) {
  const name = object.metadata?.name;
  if (typeof name !== 'string' || name.length === 0) {
    fail('metadata.name', 'is required');
  } else if (name.length > 253 || !new RegExp(DNS_SUBDOMAIN).test(name)) {
    fail('metadata.name', `"${name}" is not a DNS-1123 subdomain (lower-case alphanumerics, "-" and ".", at most 253 characters)`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Built-in kinds (kubernetes-models)
// ---------------------------------------------------------------------------------------------------

/**
 * kubernetes-models ships precompiled ajv validators without the schemas. They read each property the
 * schema defines (`data.foo`) and enumerate only map-like objects (`additionalProperties`), so wrapping
 * the object in proxies that record those reads tells which fields the schema knows: any key of an
 * object that the validator inspected but never read is unknown. Objects the validator never looks into
 * are free-form (e.g. `RawExtension`) and are not reported.
 */
function validateBuiltIn(object: any, fail: (fieldPath: string, message: string) => void): boolean {
  const model = loadBuiltInModel(object.apiVersion, object.kind);
  if (!model) {
    fail('', `unknown apiVersion/kind ${object.apiVersion} ${object.kind}: neither built into Kubernetes nor a custom resource this project knows`);
    return false;
  }
  const tracked: TrackedObject[] = [];
  const proxy = track(object, '', tracked);
  try {
    model.prototype.validate.call(proxy);
  } catch (e: any) {
    const ajvErrors: ErrorObject[] | undefined = e?.errors;
    if (!Array.isArray(ajvErrors)) throw e;
    for (const error of ajvErrors) fail(formatPointer(error.instancePath), error.message ?? error.keyword);
  }
  for (const entry of tracked) {
    if (entry.enumerated || entry.read.size === 0) continue;
    for (const key of Object.keys(entry.value)) {
      if (!entry.read.has(key)) fail(formatPointer(`${entry.pointer}/${escapePointer(key)}`), `unknown field "${key}"`);
    }
  }
  return true;
}

function loadBuiltInModel(apiVersion: string, kind: string): any | undefined {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  let exports: any;
  try {
    // The model module is named by the manifest's apiVersion, so it can only be loaded by a computed path.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(`kubernetes-models/${apiVersion}`);
  } catch {
    return undefined;
  }
  const model = exports[kind];
  return model && model.apiVersion === apiVersion && model.kind === kind ? model : undefined;
}

interface TrackedObject {
  readonly pointer: string;
  readonly value: any;
  readonly read: Set<string>;
  enumerated: boolean;
}

function track(value: any, pointer: string, tracked: TrackedObject[]): any {
  if (Array.isArray(value)) {
    return value.map((item, i) => track(item, `${pointer}/${i}`, tracked));
  }
  if (!value || typeof value !== 'object') return value;
  const entry: TrackedObject = { pointer, value, read: new Set(), enumerated: false };
  tracked.push(entry);
  const copy: any = {};
  for (const [key, child] of Object.entries(value)) copy[key] = track(child, `${pointer}/${escapePointer(key)}`, tracked);
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string') entry.read.add(key);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      if (typeof key === 'string') entry.read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      entry.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// Custom resources (CRDs in ../shared/crds)
// ---------------------------------------------------------------------------------------------------

interface CrdVersion {
  readonly served: boolean;
  readonly schema: any;
  validator?: ValidateFunction;
}

const crdIndexes = new Map<string, Map<string, Map<string, CrdVersion>>>();
const warnedMissingCrds = new Set<string>();
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);

function validateCustomResource(
  object: any,
  crdsDir: string,
  knownKind: boolean,
  fail: (fieldPath: string, message: string) => void,
): 'checked' | 'error' | { notChecked: string } {
  const [group, version] = object.apiVersion.split('/');
  if (!knownKind) {
    fail('', `unknown kind ${object.kind} in ${group}; known: ${CUSTOM_RESOURCE_FOLDERS[group].kinds.join(', ')}`);
    return 'error';
  }
  if (!fs.existsSync(crdsDir)) {
    if (!warnedMissingCrds.has(crdsDir)) {
      warnedMissingCrds.add(crdsDir);
      console.warn(`manifest-validation: custom resources not checked: ${crdsDir} not found`);
    }
    return { notChecked: '../shared/crds not found' };
  }
  const versions = loadCrds(crdsDir).get(`${group}/${object.kind}`);
  if (!versions) {
    return { notChecked: `no CRD for ${group} ${object.kind} in ../shared/crds/${CUSTOM_RESOURCE_FOLDERS[group].folder}` };
  }
  const crdVersion = versions.get(version);
  if (!crdVersion || !crdVersion.served) {
    const served = [...versions].filter(([, v]) => v.served).map(([name]) => name);
    fail('apiVersion', `${object.apiVersion} is not served by the ${object.kind} CRD; served versions: ${served.join(', ')}`);
    return 'error';
  }
  crdVersion.validator ??= compileCrdSchema(crdVersion.schema);
  if (!crdVersion.validator(object)) {
    for (const error of crdVersion.validator.errors ?? []) {
      if (error.keyword === 'additionalProperties') {
        const key = String(error.params.additionalProperty);
        fail(formatPointer(`${error.instancePath}/${escapePointer(key)}`), `unknown field "${key}"`);
      } else {
        fail(formatPointer(error.instancePath), ajvMessage(error));
      }
    }
  }
  return 'checked';
}

function loadCrds(crdsDir: string): Map<string, Map<string, CrdVersion>> {
  const cached = crdIndexes.get(crdsDir);
  if (cached) return cached;
  const crdIndex = new Map<string, Map<string, CrdVersion>>();
  crdIndexes.set(crdsDir, crdIndex);
  for (const { folder } of Object.values(CUSTOM_RESOURCE_FOLDERS)) {
    const dir = path.join(crdsDir, folder);
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir).filter(f => /\.ya?ml$/.test(f)).sort()) {
      for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
        const crd = doc.toJS();
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        const versions = new Map<string, CrdVersion>();
        for (const v of crd.spec.versions ?? []) {
          versions.set(v.name, { served: v.served !== false, schema: v.schema?.openAPIV3Schema ?? {} });
        }
        crdIndex.set(`${crd.spec.group}/${crd.spec.names.kind}`, versions);
      }
    }
  }
  return crdIndex;
}

/**
 * Turns a structural CRD schema into a JSON Schema that rejects what the API server would drop or refuse:
 * objects get `additionalProperties: false` unless they preserve unknown fields or define their own
 * `additionalProperties`. `x-kubernetes-validations` (CEL rules) are not evaluated: they use Kubernetes'
 * own CEL function library, and the API server is their authority.
 */
function compileCrdSchema(openApiSchema: any): ValidateFunction {
  const schema = toJsonSchema(openApiSchema);
  // Some CRDs (Keycloak's) leave apiVersion and kind out of their schema; every object has them.
  schema.properties = {
    ...schema.properties,
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN },
        namespace: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
  };
  registerFormats(schema);
  return ajv.compile(schema);
}

function toJsonSchema(node: any): any {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: any = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties' || key === 'patternProperties' || key === 'definitions') {
      out[key] = Object.fromEntries(Object.entries(value as object).map(([name, sub]) => [name, toJsonSchema(sub)]));
    } else if (key === 'description' || key === 'example' || key === 'default' || key === 'enum') {
      out[key] = value;
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  if (node['x-kubernetes-int-or-string'] && !out.anyOf && !out.oneOf) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  const preserves = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (out.type === 'object' && !preserves && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** Kubernetes formats ajv-formats lacks (e.g. `int32` is covered, `quantity` is not) pass as unchecked. */
function registerFormats(schema: any) {
  const walk = (node: any) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    if (typeof node.format === 'string' && !ajv.formats[node.format]) ajv.addFormat(node.format, true);
    Object.values(node).forEach(walk);
  };
  walk(schema);
}

function ajvMessage(error: ErrorObject): string {
  if (error.keyword === 'enum') return `${error.message}: ${(error.params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')}`;
  return error.message ?? error.keyword;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `/spec/containers/0/name` → `spec.containers[0].name` */
function formatPointer(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .split('/')
    .slice(1)
    .map(part => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => {
      if (/^[0-9]+$/.test(part)) return `${acc}[${part}]`;
      if (/^[A-Za-z_$][\w$-]*$/.test(part)) return acc ? `${acc}.${part}` : part;
      return `${acc}[${JSON.stringify(part)}]`;
    }, '');
}
