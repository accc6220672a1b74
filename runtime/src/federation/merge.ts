import type { ResolvedBackend } from '../config/model.js';

type Json = Record<string, unknown>;

export interface TargetInit {
  readonly name: string;
  readonly result: Json;
}

/** Protocol revisions compare as dates; the lowest one every party speaks wins. */
export function lowestVersion(versions: readonly string[]): string {
  return [...versions].sort()[0];
}

/**
 * The `initialize` result of a federated server: lowest common protocol version, the union of the
 * targets' capabilities, our own serverInfo, and each target's instructions under its name.
 */
export function mergeInitialize(targets: readonly TargetInit[], clientVersion: string, backend: ResolvedBackend, gatewayVersion: string): Json {
  const capabilities: Record<string, Json> = {};
  for (const { result } of targets) {
    const caps = (result.capabilities ?? {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(caps)) {
      if (typeof value !== 'object' || value === null) continue;
      const merged = (capabilities[name] ??= {});
      for (const [flag, setting] of Object.entries(value as Json)) {
        // Flags such as listChanged/subscribe: true if any target offers them.
        if (setting === true || merged[flag] === undefined) merged[flag] = setting;
      }
    }
  }
  const instructions = targets
    .map(({ name, result }) =>
      typeof result.instructions === 'string' && result.instructions !== '' ? `[${name}]\n${result.instructions}` : undefined,
    )
    .filter((text): text is string => text !== undefined)
    .join('\n\n');
  const merged: Json = {
    protocolVersion: lowestVersion([clientVersion, ...targets.map(({ result }) => String(result.protocolVersion ?? clientVersion))]),
    capabilities,
    serverInfo: backend.serverInfo
      ? { version: gatewayVersion, ...backend.serverInfo }
      : { name: backend.name, version: gatewayVersion },
  };
  if (instructions !== '') merged.instructions = instructions;
  return merged;
}
