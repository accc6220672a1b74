/**
 * Checks shared by the constructs' `node.addValidation` hooks. Each returns a description of the
 * problem, or `undefined` when the value is fine, so callers can phrase the fix for their own prop.
 * Messages are built with `propError` so every construct reports the same way:
 * `<construct type> <construct path>: <prop> <problem>. <fix>`.
 */
import type { SecretValue } from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Kubernetes 1.28 accepts environment variable names that are C identifiers extended with `-` and `.`.
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * A DNS-1123 label: what Kubernetes requires of most object names and of label values used as names.
 */
export function dnsLabelProblem(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return 'is empty';
  if (value.length > 63) return `"${value}" is longer than 63 characters`;
  if (!DNS_LABEL.test(value)) {
    return `"${value}" is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** A DNS-1035 label: what Kubernetes requires of Service names (a DNS-1123 label starting with a letter). */
export function serviceNameProblem(value: string | undefined): string | undefined {
  const problem = dnsLabelProblem(value);
  if (problem) return problem;
  if (!DNS_1035_LABEL.test(value!)) return `"${value}" must start with a letter to be a Service name (DNS-1035 label)`;
  return undefined;
}

/** A DNS-1123 subdomain: what Kubernetes requires of most other object names (PriorityClass, Gateway, GatewayClass, host names). */
export function dnsSubdomainProblem(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return 'is empty';
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) return `"${value}" is not a DNS-1123 subdomain (lower-case letters, digits, "-" and ".")`;
  return undefined;
}

/** Whether `value` is an absolute http or https URL. */
export function isHttpUrl(value: string | undefined): boolean {
  if (value === undefined) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A TCP port number. */
export function portProblem(port: number | undefined): string | undefined {
  if (port === undefined) return 'is missing';
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `${port} is not a port number between 1 and 65535`;
  return undefined;
}

/** A string that must have content (blank strings count as empty). */
export function emptyProblem(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return 'is empty';
  return undefined;
}

/** A container environment variable name. */
export function envVarNameProblem(name: string): string | undefined {
  if (!ENV_VAR_NAME.test(name)) {
    return `"${name}" is not a valid environment variable name (letters, digits, "_", "-" and ".", not starting with a digit)`;
  }
  return undefined;
}

/** An absolute path inside a URL or a container. */
export function absolutePathProblem(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return 'is empty';
  if (!value.startsWith('/')) return `"${value}" does not start with "/"`;
  if (/\s/.test(value)) return `"${value}" contains whitespace`;
  return undefined;
}

/**
 * The message of a failed prop check, naming where (construct path), what (prop and problem) and the fix.
 */
export function propError(construct: IConstruct, prop: string, problem: string, fix: string): string {
  return `${construct.constructor.name} ${construct.node.path}: ${prop} ${problem}. ${fix}`;
}

/** Records a prop problem (when there is one) as a `propError` message. */
export type PropCheck = (prop: string, problem: string | undefined, fix: string) => void;

/**
 * The messages of a validation hook and the `check` that adds to them, so every hook reports in the
 * `propError` format without its own closure.
 */
export function propChecks(construct: IConstruct, propPrefix?: string): { errors: string[]; check: PropCheck } {
  const errors: string[] = [];
  const check: PropCheck = (prop, problem, fix) => {
    if (problem) errors.push(propError(construct, propPrefix ? `${propPrefix}${prop ? ` ${prop}` : ''}` : prop, problem, fix));
  };
  return { errors, check };
}

/** A Secret key reference: both the Secret and the key must be named. */
export function secretValueProblem(value: SecretValue | undefined): string | undefined {
  if (value === undefined || value.secret === undefined) return 'is missing';
  if (emptyProblem(value.key)) return `names Secret "${value.secret.name}" without a key`;
  return undefined;
}
