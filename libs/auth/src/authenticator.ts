import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { UnauthenticatedError } from '@maas/errors';
import { AuthConfigError, sha256Hex, type AuthConfig, type JwtConfig } from './auth-config.js';
import { FULL_GRANTS, GrantsError, parseGrants, type Grants } from './permissions.js';

/** Who is calling and what they may do. */
export interface Principal {
  /** The API key's name, `jwt:<sub>`, `service`, or `anonymous` when auth is off. */
  id: string;
  grants: Grants;
}

export const ANONYMOUS: Principal = { id: 'anonymous', grants: FULL_GRANTS };
const SERVICE: Principal = { id: 'service', grants: FULL_GRANTS };

/** Verified JWTs are remembered (bounded) until they expire, so a hop that re-verifies costs a lookup. */
const JWT_CACHE_ENTRIES = 10_000;
const JWT_CACHE_MAX_MS = 5 * 60_000;

type JwtKey = Uint8Array | JWTVerifyGetKey;

function jwtKey(config: JwtConfig): JwtKey {
  if (config.secret !== undefined) return new TextEncoder().encode(config.secret);
  if (config.jwksUrl !== undefined) return createRemoteJWKSet(new URL(config.jwksUrl));
  try {
    return createLocalJWKSet(JSON.parse(readFileSync(config.jwksFile!, 'utf8')));
  } catch (error) {
    throw new AuthConfigError(`jwt.jwks_file ${config.jwksFile}: ${(error as Error).message}`);
  }
}

/** `authorization: Bearer <token>`; anything else is refused the same way as no header at all. */
function bearerToken(authorization: string | undefined): string {
  const match = authorization === undefined ? null : /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) throw new UnauthenticatedError('Missing credentials: send "authorization: Bearer <API key or JWT>"');
  return match[1]!;
}

const looksLikeJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);

/**
 * Turns an `authorization` value into a Principal, or throws UnauthenticatedError. API keys are
 * looked up by their SHA-256; JWTs are verified with jose (signature, exp/nbf, issuer, audience)
 * and their roles claim becomes the grants.
 */
export class Authenticator {
  private readonly keys = new Map<string, Principal>();
  private readonly jwtKey?: JwtKey;
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly config: AuthConfig) {
    for (const key of config.apiKeys) this.keys.set(key.sha256, { id: key.name, grants: key.grants });
    if (config.serviceKeySha256) this.keys.set(config.serviceKeySha256, SERVICE);
    if (config.jwt) this.jwtKey = jwtKey(config.jwt);
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = bearerToken(authorization);
    const byKey = this.keys.get(sha256Hex(token));
    if (byKey) return byKey;
    if (this.config.jwt && looksLikeJwt(token)) return this.verifyJwt(token, this.config.jwt);
    throw new UnauthenticatedError('Invalid credentials: unknown API key or unverifiable token');
  }

  private async verifyJwt(token: string, config: JwtConfig): Promise<Principal> {
    const cached = this.verified.get(token);
    if (cached && cached.until > Date.now()) return cached.principal;
    this.verified.delete(token);
    let payload: Record<string, unknown>;
    try {
      const options = { issuer: config.issuer, audience: config.audience, algorithms: config.algorithms };
      const key = this.jwtKey!;
      payload = (typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options)).payload;
    } catch (error) {
      const reason = error instanceof joseErrors.JOSEError ? error.message : 'token did not verify';
      throw new UnauthenticatedError(`Invalid bearer token: ${reason}`);
    }
    let grants: Grants;
    try {
      grants = parseGrants(payload[config.rolesClaim] ?? {}, `claim ${config.rolesClaim}`);
    } catch (error) {
      if (error instanceof GrantsError) throw new UnauthenticatedError(`Invalid bearer token: ${error.message}`);
      throw error;
    }
    const principal: Principal = { id: `jwt:${typeof payload.sub === 'string' ? payload.sub : 'unnamed'}`, grants };
    const expires = typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity;
    if (this.verified.size >= JWT_CACHE_ENTRIES) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, until: Math.min(expires, Date.now() + JWT_CACHE_MAX_MS) });
    return principal;
  }
}
