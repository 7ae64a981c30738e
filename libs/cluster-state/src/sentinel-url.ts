import type { RedisOptions } from 'ioredis';

const DEFAULT_SENTINEL_PORT = 26379;
const FORM = 'redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/<master name>[/<db>][?sentinel_password=…&sentinel_username=…]';

/**
 * ioredis options for a Redis Sentinel URL, or undefined for any other URL (redis://, rediss://,
 * which ioredis reads itself). ioredis asks the sentinels where the primary is and asks again after
 * a failover; a URL cannot say that by itself, hence this form (the one Celery, Sidekiq and
 * redis-py accept in spirit): several sentinel addresses, then the monitored master's name.
 * `rediss+sentinel://` uses TLS to the sentinels and to the primary.
 */
export function sentinelOptions(url: string): RedisOptions | undefined {
  const scheme = /^(rediss?)\+sentinel:\/\//i.exec(url);
  if (!scheme) return undefined;
  const match = /^[^:]+:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)\/([^/?#]+)(?:\/(\d+))?\/?(?:\?([^#]*))?$/.exec(url);
  if (!match) throw new TypeError(`Redis Sentinel URL ${redact(url)} does not have the form ${FORM}`);
  const [, username, password, hosts, name, db, query] = match;
  const params = new URLSearchParams(query ?? '');
  for (const key of params.keys()) {
    if (key !== 'sentinel_password' && key !== 'sentinel_username') throw new TypeError(`Redis Sentinel URL ${redact(url)}: unknown parameter '${key}' (${FORM})`);
  }
  const tls = scheme[1]!.toLowerCase() === 'rediss';
  return {
    sentinels: hosts!.split(',').map((address) => sentinelAddress(address, url)),
    name: decodeURIComponent(name!),
    ...(username ? { username: decodeURIComponent(username) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(params.has('sentinel_username') ? { sentinelUsername: params.get('sentinel_username')! } : {}),
    ...(params.has('sentinel_password') ? { sentinelPassword: params.get('sentinel_password')! } : {}),
    ...(tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
  };
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
function sentinelAddress(address: string, url: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(address);
  const port = Number(match?.[3] ?? DEFAULT_SENTINEL_PORT);
  if (!match || port < 1 || port > 65535) throw new TypeError(`Redis Sentinel URL ${redact(url)}: '${address}' is not host[:port]`);
  return { host: match[1] ?? match[2]!, port };
}

/** The URL without its password, for error messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@').replace(/(sentinel_password=)[^&#]*/, '$1***');
}
