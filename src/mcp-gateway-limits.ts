import type { Duration, Size } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type * as config from './gateway/config-contract.generated';
import { omitUndefined } from './manifest-helpers';
import { propChecks } from './validation';

/** Whose bucket a rate limit fills. */
export enum McpRateLimitScope {
  /** One bucket for the whole route (agentgateway's `localRateLimit`). */
  ROUTE = 'route',
  /** One bucket per subject: the token's issuer and `sub`, or the client address on routes without sign-in. */
  SUBJECT = 'subject',
  /** One bucket per subject and tool; only `tools/call` draws from it. */
  TOOL = 'tool',
}

/**
 * A token bucket (agentgateway's `localRateLimit` entry): it holds up to `maxTokens` requests and gets
 * `tokensPerFill` back every `fillInterval`. A request over it gets HTTP 429 with `Retry-After`.
 */
export interface McpRateLimit {
  /** Requests the bucket holds: the largest burst. */
  readonly maxTokens: number;
  /**
   * Requests given back every `fillInterval`.
   * @default 1
   */
  readonly tokensPerFill?: number;
  /** How often the bucket is refilled. */
  readonly fillInterval: Duration;
  /**
   * Whose bucket this is.
   * @default McpRateLimitScope.ROUTE
   */
  readonly per?: McpRateLimitScope;
}

/**
 * What one client can make the gateway hold (`RUNTIME` implementation only). Each refusal is a JSON-RPC
 * error naming the setting, counted in `mcp_gateway_limit_refusals_total`.
 */
export interface McpGatewayLimits {
  /**
   * Sessions one gateway pod holds; the next `initialize` gets HTTP 429.
   * @default 10000
   */
  readonly maxSessions?: number;
  /**
   * Sessions one subject (token issuer and `sub`, or the client address without sign-in) holds.
   * @default 500
   */
  readonly maxSessionsPerSubject?: number;
  /**
   * Requests in one JSON-RPC batch; a larger batch gets HTTP 413.
   * @default 64
   */
  readonly maxBatchSize?: number;
  /**
   * SSE events one session keeps so a client can resume with `Last-Event-ID`.
   * @default Size.mebibytes(4)
   */
  readonly maxReplaySize?: Size;
  /**
   * Longest life of a session id, however active; then the client gets 404 and signs in again.
   * @default Duration.hours(24)
   */
  readonly sessionLifetime?: Duration;
  /**
   * Rate limits applied to every route (`localRateLimit`); a request must find a token in each.
   * @default - none
   */
  readonly rateLimits?: McpRateLimit[];
}

const KIB = 1024;

/** `config.limits` fields of the runtime configuration; empty when nothing is set. @internal */
export function renderLimitsConfig(limits: McpGatewayLimits | undefined): { limits?: config.LimitSettings } {
  if (!limits) return {};
  const rendered = omitUndefined<config.LimitSettings>({
    maxSessions: limits.maxSessions,
    maxSessionsPerSubject: limits.maxSessionsPerSubject,
    maxBatchSize: limits.maxBatchSize,
    maxReplayBytes: limits.maxReplaySize !== undefined ? Math.round(limits.maxReplaySize.toKibibytes() * KIB) : undefined,
    sessionLifetime: limits.sessionLifetime !== undefined ? `${limits.sessionLifetime.toSeconds({ integral: false })}s` : undefined,
  });
  return Object.keys(rendered).length > 0 ? { limits: rendered } : {};
}

/** A rendered route with the gateway's rate limits added to its policies. @internal */
export function withRateLimits(route: config.Route, limits: McpGatewayLimits | undefined): config.Route {
  if (!limits?.rateLimits?.length) return route;
  const localRateLimit = limits.rateLimits.map((limit) => omitUndefined<config.LocalRateLimit>({
    maxTokens: limit.maxTokens,
    tokensPerFill: limit.tokensPerFill ?? 1,
    fillInterval: `${limit.fillInterval.toMilliseconds()}ms`,
    type: 'requests',
    per: limit.per !== McpRateLimitScope.ROUTE ? limit.per : undefined,
  }));
  return { ...route, policies: { ...route.policies, localRateLimit } };
}

/** Problems of `limits`, in the `propError` format. @internal */
export function validateLimits(scope: IConstruct, limits: McpGatewayLimits | undefined): string[] {
  const { errors, check } = propChecks(scope, 'limits');
  if (!limits) return errors;
  const positiveInteger = (value: number | undefined) =>
    value === undefined || (Number.isInteger(value) && value >= 1) ? undefined : `must be a whole number of at least 1, got ${value}`;
  check('maxSessions', positiveInteger(limits.maxSessions), 'Give the most sessions one pod may hold, e.g. 10000.');
  check('maxSessionsPerSubject', positiveInteger(limits.maxSessionsPerSubject), 'Give the most sessions one client may hold, e.g. 500.');
  check('maxBatchSize', positiveInteger(limits.maxBatchSize), 'Give the most requests one batch may carry, e.g. 64.');
  if (limits.maxReplaySize !== undefined) {
    check('maxReplaySize', limits.maxReplaySize.toKibibytes() * KIB >= 1 ? undefined : 'must be at least one byte', 'Use e.g. Size.mebibytes(4).');
  }
  if (limits.sessionLifetime !== undefined) {
    check(
      'sessionLifetime',
      limits.sessionLifetime.toSeconds({ integral: false }) >= 1 ? undefined : 'must be at least one second',
      'Use e.g. Duration.hours(24).',
    );
  }
  (limits.rateLimits ?? []).forEach((limit, index) => {
    check(`rateLimits[${index}].maxTokens`, positiveInteger(limit.maxTokens), 'Give the largest burst of requests, e.g. 20.');
    check(`rateLimits[${index}].tokensPerFill`, positiveInteger(limit.tokensPerFill), 'Give the requests given back per fillInterval, e.g. 10.');
    check(
      `rateLimits[${index}].fillInterval`,
      limit.fillInterval.toMilliseconds() >= 1 ? undefined : 'must be at least one millisecond',
      'Use e.g. Duration.seconds(1).',
    );
  });
  return errors;
}
