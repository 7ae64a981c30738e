import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import { InFlightPerClient, type RequestLimits } from '@maas/limits';
import type { GrpcServerSecurity } from '@maas/serving-api';
import { AuthConfigError, readAuthConfig, type AuthConfig } from './auth-config.js';
import { AuditLog } from './audit-log.js';
import { Authenticator } from './authenticator.js';
import { guardInterceptor, screenService, type CallGuardOptions } from './grpc-guard.js';
import { restGuard, type RestGuard } from './rest-guard.js';
import { SslConfigError } from './tls/ssl-config.js';
import { secureContextOptions, serverCredentials, SslConfigFile } from './tls/ssl-config-file.js';

/** Security settings of one role, as its flags give them. */
export interface SecurityOptions {
  /** JSON auth config; absent: auth is off. */
  authConfigFile?: string;
  /** JSON lines of administrative calls: a file (appended), '-' for stderr; absent: stderr when auth is on, else none. */
  auditLogFile?: string;
  /** TF's SSLConfig for the external listeners (gRPC and REST of `serve` and the scheduler). */
  sslConfigFile?: string;
  /** SSLConfig for the listeners and calls between roles (mTLS when client_verify). */
  clusterSslConfigFile?: string;
  /** How often the SSLConfig files are checked for new certificates. */
  tlsPollMs: number;
  limits: RequestLimits;
  /** 0: no cap. */
  maxInFlightPerClient: number;
  /** HTTP/2 streams per connection; 0: grpc-js's default (no cap). */
  maxConcurrentStreams: number;
  log: (message: string) => void;
}

/** Who a listener serves: clients from outside (front doors) or the cluster's own roles. */
export type Listener = 'external' | 'internal';

/** The REST front end's TLS: the options of its https server and a feed of new certificates. */
export interface RestTls {
  options: HttpsServerOptions;
  onChange(listener: (context: SecureContextOptions) => void): void;
}

/**
 * Everything a role needs for access control, limits and TLS, built once from its flags. Files
 * are read at start-up (a bad one stops the process: better than serving unprotected); the
 * SSLConfig files are then watched for rotated certificates.
 */
export class RoleSecurity {
  private readonly files: SslConfigFile[] = [];
  private readonly audit?: AuditLog;
  private readonly authenticator?: Authenticator;
  private readonly external?: SslConfigFile;
  private readonly cluster?: SslConfigFile;
  private readonly inFlight?: InFlightPerClient;
  readonly authConfig?: AuthConfig;

  constructor(private readonly options: SecurityOptions) {
    if (options.authConfigFile) {
      this.authConfig = readAuthConfig(options.authConfigFile);
      this.authenticator = new Authenticator(this.authConfig);
    }
    const audit = options.auditLogFile ?? (this.authConfig ? '-' : undefined);
    if (audit) this.audit = new AuditLog(audit);
    if (options.sslConfigFile) this.files.push((this.external = new SslConfigFile(options.sslConfigFile, options.tlsPollMs, options.log)));
    if (options.clusterSslConfigFile) this.files.push((this.cluster = new SslConfigFile(options.clusterSslConfigFile, options.tlsPollMs, options.log)));
    if (options.maxInFlightPerClient > 0) this.inFlight = new InFlightPerClient(options.maxInFlightPerClient);
  }

  get authEnabled(): boolean {
    return this.authenticator !== undefined;
  }

  private guardOptions(listener: Listener): CallGuardOptions {
    return {
      authenticator: this.authenticator,
      limits: this.options.limits,
      inFlight: listener === 'external' ? this.inFlight : undefined,
      audit: this.audit,
    };
  }

  /** For startGrpcServer: external listeners use --ssl_config_file, internal ones the cluster's. */
  grpcServer(listener: Listener): GrpcServerSecurity {
    const file = listener === 'external' ? this.external : this.cluster;
    const streams = this.options.maxConcurrentStreams;
    return {
      credentials: file ? serverCredentials(file) : ServerCredentials.createInsecure(),
      interceptors: [guardInterceptor(this.guardOptions(listener))],
      channelOptions: streams > 0 ? { 'grpc.max_concurrent_streams': streams } : {},
      wrapService: (definition) => screenService(definition, this.options.limits),
    };
  }

  /** For startRestServer (an external listener). */
  rest(): { guard: RestGuard; tls?: RestTls } {
    const file = this.external;
    if (!file) return { guard: restGuard(this.guardOptions('external')) };
    const verify = file.current.clientVerify;
    return {
      guard: restGuard(this.guardOptions('external')),
      tls: {
        options: { ...secureContextOptions(file.current), requestCert: verify, rejectUnauthorized: verify },
        onChange: (listener) => file.onChange((config) => listener(secureContextOptions(config))),
      },
    };
  }

  /**
   * For calls to other roles: the TLS of each new connection (the cluster's mTLS, following rotated
   * certificates), and the service key for `authorization` when auth is on (roles that call others
   * need the key itself in the config, not only its hash).
   */
  clusterClient(): { tls?: () => SecureContextOptions; authorization?: string } {
    let authorization: string | undefined;
    if (this.authConfig) {
      const key = this.authConfig.serviceKey;
      if (!key) throw new AuthConfigError(`${this.options.authConfigFile}: service_key is required by a role that calls the others (the scheduler)`);
      authorization = `Bearer ${key}`;
    }
    const file = this.cluster;
    if (file && !file.current.customCa) throw new SslConfigError(`${file.path}: custom_ca is required to verify the other roles' certificates`);
    return { authorization, tls: file ? () => secureContextOptions(file.current) : undefined };
  }

  async close(): Promise<void> {
    for (const file of this.files) file.close();
    await this.audit?.close();
  }
}
