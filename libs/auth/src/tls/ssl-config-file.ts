import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import { parseSslConfig, SslConfigError, type SslConfig } from './ssl-config.js';

/**
 * An SSLConfig file that is read again when it changes, so certificates rotate without a restart:
 * write the new config next to the old one and rename it over (an atomic replace); within one poll
 * the listeners get it and new connections use it, while open connections keep theirs. A config
 * that does not parse or whose key and certificate do not match is logged and ignored: the
 * previous one keeps serving.
 */
export class SslConfigFile {
  private config: SslConfig;
  private text: string;
  private readonly listeners = new Set<(config: SslConfig) => void>();
  private readonly onStat = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.ino !== previous.ino || current.size !== previous.size) this.reload();
  };

  constructor(
    readonly path: string,
    pollMs: number,
    private readonly log: (message: string) => void,
  ) {
    this.text = SslConfigFile.read(path);
    try {
      this.config = parseSslConfig(this.text);
    } catch (error) {
      throw new SslConfigError(`${path}: ${(error as Error).message}`);
    }
    watchFile(path, { interval: pollMs, persistent: false }, this.onStat);
  }

  private static read(path: string): string {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new SslConfigError(`cannot read ${path}: ${(error as Error).message}`);
    }
  }

  get current(): SslConfig {
    return this.config;
  }

  onChange(listener: (config: SslConfig) => void): void {
    this.listeners.add(listener);
  }

  /** Reads the file now (the poll calls this on a change). */
  reload(): void {
    let text: string;
    let config: SslConfig;
    try {
      text = SslConfigFile.read(this.path);
      if (text === this.text) return;
      config = parseSslConfig(text);
    } catch (error) {
      this.log(`${this.path} changed but cannot be used, keeping the previous certificates: ${(error as Error).message}`);
      return;
    }
    if (config.clientVerify !== this.config.clientVerify) this.log(`${this.path}: client_verify changes only on restart`);
    this.text = text;
    this.config = config;
    this.log(`${this.path}: new certificates loaded; new connections use them`);
    for (const listener of this.listeners) listener(config);
  }

  close(): void {
    unwatchFile(this.path, this.onStat);
    this.listeners.clear();
  }
}

export function secureContextOptions(config: SslConfig): SecureContextOptions {
  return { key: config.serverKey, cert: config.serverCert, ...(config.customCa ? { ca: config.customCa } : {}) };
}

/** grpc-js server credentials that follow the file: each change becomes the context of new connections. */
class ReloadingServerCredentials extends ServerCredentials {
  constructor(file: SslConfigFile) {
    const verify = file.current.clientVerify;
    super({ requestCert: verify, rejectUnauthorized: verify }, secureContextOptions(file.current));
    file.onChange((config) => this.updateSecureContextOptions(secureContextOptions(config)));
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

export function serverCredentials(file: SslConfigFile): ServerCredentials {
  return new ReloadingServerCredentials(file);
}
