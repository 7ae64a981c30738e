import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GrantsError, parseGrants, type Grants } from './permissions.js';

/** One API key: stored as its SHA-256 (hex) so the config file need not hold the key itself. */
export interface ApiKeyEntry {
  /** Who the key belongs to: the principal named in the audit log and in refusals. */
  name: string;
  sha256: string;
  grants: Grants;
}

/** Bearer JWTs: verified against one key source, then the roles claim gives the grants. */
export interface JwtConfig {
  issuer?: string;
  audience?: string;
  /** Exactly one key source: a JWKS file, a JWKS URL, or a shared HS256 secret. */
  jwksFile?: string;
  jwksUrl?: string;
  secret?: string;
  /** Accepted `alg` values (default: what the key allows). */
  algorithms?: string[];
  /** Claim holding `{ "<model or *>": [permissions] }` (default `maas_roles`). */
  rolesClaim: string;
}

export interface AuthConfig {
  apiKeys: ApiKeyEntry[];
  jwt?: JwtConfig;
  /** SHA-256 (hex) of the key the cluster's roles present to each other; it carries every permission. */
  serviceKeySha256?: string;
  /** The service key itself, for roles that call others (the scheduler); absent where only verified. */
  serviceKey?: string;
}

/** A config file that cannot be used; the process refuses to start rather than serve unprotected. */
export class AuthConfigError extends Error {
  override name = 'AuthConfigError';
}

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

type Json = Record<string, unknown>;

function object(value: unknown, where: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AuthConfigError(`${where}: expected an object`);
  return value as Json;
}

function optionalString(json: Json, key: string, where: string): string | undefined {
  const value = json[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new AuthConfigError(`${where}.${key}: expected a non-empty string`);
  return value;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** `key_sha256` (preferred) or `key`, as a lower-case hex digest. */
function keyDigest(json: Json, prefix: string, where: string): string | undefined {
  const digest = optionalString(json, `${prefix}_sha256`, where)?.toLowerCase();
  const plain = optionalString(json, prefix, where);
  if (digest !== undefined && plain !== undefined) throw new AuthConfigError(`${where}: give ${prefix} or ${prefix}_sha256, not both`);
  if (digest !== undefined && !HEX_SHA256.test(digest)) throw new AuthConfigError(`${where}.${prefix}_sha256: expected 64 hex digits`);
  return digest ?? (plain === undefined ? undefined : sha256Hex(plain));
}

/** Principals MaaS names itself: a key with one of these names would pass for the service key (no per-client limit) or for auth being off, in the audit log too. */
const RESERVED_NAMES = ['service', 'anonymous', 'unauthenticated'];

function apiKeys(value: unknown): ApiKeyEntry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new AuthConfigError('api_keys: expected a list');
  const seen = new Set<string>();
  return value.map((item, i) => {
    const where = `api_keys[${i}]`;
    const json = object(item, where);
    const name = optionalString(json, 'name', where);
    if (!name) throw new AuthConfigError(`${where}.name: required`);
    if (RESERVED_NAMES.includes(name) || name.startsWith('jwt:')) throw new AuthConfigError(`${where}.name: ${JSON.stringify(name)} is reserved for the cluster's own principals`);
    const sha256 = keyDigest(json, 'key', where);
    if (!sha256) throw new AuthConfigError(`${where}: key or key_sha256 is required`);
    if (seen.has(sha256)) throw new AuthConfigError(`${where}: the same key is listed twice`);
    seen.add(sha256);
    return { name, sha256, grants: parseGrants(json.roles, `${where}.roles`) };
  });
}

function jwt(value: unknown): JwtConfig | undefined {
  if (value === undefined) return undefined;
  const json = object(value, 'jwt');
  const config: JwtConfig = {
    issuer: optionalString(json, 'issuer', 'jwt'),
    audience: optionalString(json, 'audience', 'jwt'),
    jwksFile: optionalString(json, 'jwks_file', 'jwt'),
    jwksUrl: optionalString(json, 'jwks_url', 'jwt'),
    secret: optionalString(json, 'secret', 'jwt'),
    rolesClaim: optionalString(json, 'roles_claim', 'jwt') ?? 'maas_roles',
  };
  const sources = [config.jwksFile, config.jwksUrl, config.secret].filter((s) => s !== undefined).length;
  if (sources !== 1) throw new AuthConfigError('jwt: give exactly one of jwks_file, jwks_url, secret');
  if (json.algorithms !== undefined) {
    if (!Array.isArray(json.algorithms) || !json.algorithms.every((a) => typeof a === 'string')) {
      throw new AuthConfigError('jwt.algorithms: expected a list of strings');
    }
    config.algorithms = json.algorithms as string[];
  }
  return config;
}

/** The auth config from its JSON text; every mistake is an AuthConfigError naming the field. */
export function parseAuthConfig(text: string): AuthConfig {
  let json: Json;
  try {
    json = object(JSON.parse(text), 'auth config');
  } catch (error) {
    if (error instanceof AuthConfigError) throw error;
    throw new AuthConfigError(`auth config is not valid JSON: ${(error as Error).message}`);
  }
  const known = new Set(['api_keys', 'jwt', 'service_key', 'service_key_sha256']);
  for (const key of Object.keys(json)) if (!known.has(key)) throw new AuthConfigError(`unknown field ${key}; expected ${[...known].join(', ')}`);
  let keys: ApiKeyEntry[];
  try {
    keys = apiKeys(json.api_keys);
  } catch (error) {
    if (error instanceof GrantsError) throw new AuthConfigError(error.message);
    throw error;
  }
  const config: AuthConfig = {
    apiKeys: keys,
    jwt: jwt(json.jwt),
    serviceKeySha256: keyDigest(json, 'service_key', 'auth config'),
    serviceKey: optionalString(json, 'service_key', 'auth config'),
  };
  if (config.apiKeys.length === 0 && !config.jwt && !config.serviceKeySha256) {
    throw new AuthConfigError('auth config accepts no credentials: give api_keys, jwt or service_key');
  }
  return config;
}

export function readAuthConfig(path: string): AuthConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AuthConfigError(`cannot read auth config ${path}: ${(error as Error).message}`);
  }
  try {
    return parseAuthConfig(text);
  } catch (error) {
    throw new AuthConfigError(`${path}: ${(error as Error).message}`);
  }
}
