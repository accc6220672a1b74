import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuthSettings } from './settings.js';

/** A token that must not be accepted; `description` is safe to send to the client (it never contains the token). */
export class TokenRejectedError extends Error {
  constructor(readonly description: string) {
    super(description);
    this.name = 'TokenRejectedError';
  }
}

/** Checks signature, issuer, audience, algorithm, lifetime and required claims of a JWT access token. */
export class TokenValidator {
  constructor(
    private readonly settings: Pick<AuthSettings, 'issuer' | 'algorithms' | 'clockSkewSeconds' | 'requiredClaims'>,
    private readonly getKey: JWTVerifyGetKey,
  ) {}

  async validate(token: string, audiences: readonly string[]): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        issuer: this.settings.issuer,
        audience: [...audiences],
        algorithms: [...this.settings.algorithms],
        clockTolerance: this.settings.clockSkewSeconds,
        requiredClaims: [...this.settings.requiredClaims],
      });
      return payload;
    } catch (error) {
      throw new TokenRejectedError(describe(error));
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `token ${error.claim} claim rejected: ${error.reason === 'missing' ? 'missing' : 'unexpected value'}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token signing algorithm not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'token signing key unknown';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'token signing key ambiguous';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (error instanceof errors.JWKSTimeout) return 'signing keys unavailable';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) return 'malformed token';
  // The rest: a JWKS that cannot be fetched (jose reports HTTP and JSON failures as plain JOSEError,
  // network failures as TypeError) or metadata that cannot be discovered. Fail closed.
  return 'signing keys unavailable';
}
