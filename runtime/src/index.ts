/**
 * The gateway as a library: what `cli.ts` uses, for programs that embed the gateway (tests, a metrics
 * exporter that supplies its own Telemetry). The `mcp-gateway` command is `cli.ts`.
 */
export { ConfigError, type ConfigIssue } from './config/errors.js';
export { ConfigLoader, type LoadOptions } from './config/load.js';
export type { ResolvedConfig, ResolvedRoute, ResolvedBackend, ResolvedSettings } from './config/model.js';
export { configSchema } from './config/schema.generated.js';
export type * from './config/types.js';
export { ConfigWatcher } from './config/watch.js';
export { Gateway, type GatewayOptions, type GatewayStatus } from './gateway.js';
export { StructuredLogger, type Logger, type LogLevel, type LogFields } from './telemetry/logger.js';
export { noTelemetry, type McpRequestRecord, type Telemetry } from './telemetry/telemetry.js';
export { GATEWAY_VERSION } from './version.js';
