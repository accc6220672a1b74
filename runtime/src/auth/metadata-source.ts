import type { AuthorizationServerMetadata } from './provider.js';
import type { Logger } from '../telemetry/logger.js';

class MetadataUnavailableError extends Error {}

export interface MetadataSourceOptions {
  readonly fetch: typeof fetch;
  readonly logger?: Logger;
  /** How long a fetched document is served before it is fetched again. */
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
}

/**
 * The identity provider's authorization server metadata, fetched on first use and cached. A failed refresh
 * keeps serving the last good copy: clients in the middle of a sign-in should not notice a short IdP outage.
 */
export class AuthorizationServerMetadataSource {
  private cached?: { readonly metadata: AuthorizationServerMetadata; readonly fetchedAt: number };
  private inFlight?: Promise<AuthorizationServerMetadata>;

  constructor(
    private readonly urls: readonly string[],
    private readonly options: MetadataSourceOptions,
  ) {}

  async get(): Promise<AuthorizationServerMetadata> {
    if (this.cached && Date.now() - this.cached.fetchedAt < this.options.maxAgeMs) return this.cached.metadata;
    this.inFlight ??= this.fetchFirstAvailable().finally(() => {
      this.inFlight = undefined;
    });
    try {
      return await this.inFlight;
    } catch (error) {
      if (this.cached) {
        this.options.logger?.warn('identity provider metadata refresh failed; serving the cached copy', { error: (error as Error).message });
        return this.cached.metadata;
      }
      throw error;
    }
  }

  private async fetchFirstAvailable(): Promise<AuthorizationServerMetadata> {
    const failures: string[] = [];
    for (const url of this.urls) {
      try {
        const response = await this.options.fetch(url, {
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        if (!response.ok) {
          await response.body?.cancel();
          failures.push(`${url}: HTTP ${response.status}`);
          continue;
        }
        const metadata = (await response.json()) as unknown;
        if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
          failures.push(`${url}: not a JSON object`);
          continue;
        }
        this.cached = { metadata: metadata as AuthorizationServerMetadata, fetchedAt: Date.now() };
        return this.cached.metadata;
      } catch (error) {
        failures.push(`${url}: ${(error as Error).message}`);
      }
    }
    throw new MetadataUnavailableError(`identity provider metadata unavailable (${failures.join('; ')})`);
  }
}
