import { createSecureContext } from 'node:tls';
import { messageSchema, parseMessage, scalar } from '@maas/text-proto';

/**
 * TF Serving's `--ssl_config_file`: a text-format SSLConfig (model_servers/ssl_config.proto) whose
 * fields hold PEM text, not file names:
 *
 *   server_key: "-----BEGIN PRIVATE KEY-----\n..."
 *   server_cert: "-----BEGIN CERTIFICATE-----\n..."
 *   custom_ca: "-----BEGIN CERTIFICATE-----\n..."   # verifies client certificates (and, between roles, servers)
 *   client_verify: true                              # require a client certificate signed by custom_ca
 */
export interface SslConfig {
  serverKey: string;
  serverCert: string;
  customCa: string;
  clientVerify: boolean;
}

const SSL_CONFIG_SCHEMA = messageSchema<SslConfig>('tensorflow.serving.SSLConfig', [
  { name: 'server_key', key: 'serverKey', type: scalar('string') },
  { name: 'server_cert', key: 'serverCert', type: scalar('string') },
  { name: 'custom_ca', key: 'customCa', type: scalar('string') },
  { name: 'client_verify', key: 'clientVerify', type: scalar('bool') },
]);

export class SslConfigError extends Error {
  override name = 'SslConfigError';
}

/** Parses and checks an SSLConfig: key and certificate present and matching, a CA when clients are verified. */
export function parseSslConfig(text: string): SslConfig {
  let config: SslConfig;
  try {
    config = parseMessage(text, SSL_CONFIG_SCHEMA);
  } catch (error) {
    throw new SslConfigError((error as Error).message);
  }
  if (!config.serverKey || !config.serverCert) throw new SslConfigError('server_key and server_cert are required');
  if (config.clientVerify && !config.customCa) throw new SslConfigError('client_verify needs custom_ca to verify client certificates with');
  try {
    createSecureContext({ key: config.serverKey, cert: config.serverCert, ca: config.customCa || undefined });
  } catch (error) {
    throw new SslConfigError(`the key, certificate or CA does not load: ${(error as Error).message}`);
  }
  return config;
}
