import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAAS_BIN } from '@maas/cli';

/** Keys every security test uses; the config stores only their SHA-256 where it can. */
export const KEYS = { reader: 'reader-key-0123456789', ops: 'ops-key-0123456789', service: 'service-key-0123456789' };
export const JWT_SECRET = 'jwt-secret-for-tests-0123456789abcdef';
export const bearer = (key: string) => `Bearer ${key}`;

/** reader: predict and read metadata on `model` only; ops: administer everything; JWTs signed with JWT_SECRET. */
export function writeAuthConfig(dir: string, model: string): string {
  const path = join(dir, 'auth.json');
  writeFileSync(
    path,
    JSON.stringify({
      api_keys: [
        { name: 'reader', key: KEYS.reader, roles: { [model]: ['predict', 'read_metadata'] } },
        { name: 'ops', key: KEYS.ops, roles: { '*': ['administer'] } },
      ],
      jwt: { issuer: 'maas-tests', audience: 'maas', secret: JWT_SECRET },
      service_key: KEYS.service,
    }),
  );
  return path;
}

export interface Certificate {
  key: string;
  cert: string;
}

/** A CA and leaf certificates it signs (SANs 127.0.0.1 and localhost, for server and client use), made with openssl. */
export class TestCa {
  readonly ca: Certificate;
  private serial = 0;

  constructor(
    private readonly dir: string,
    readonly name = 'maas-test-ca',
  ) {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.crt`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`], { stdio: 'ignore' });
    this.ca = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  }

  issue(commonName: string): Certificate {
    const base = join(this.dir, `${this.name}-${commonName}-${++this.serial}`);
    writeFileSync(`${base}.ext`, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
    execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${commonName}`], { stdio: 'ignore' });
    execFileSync(
      'openssl',
      ['x509', '-req', '-in', `${base}.csr`, '-CA', join(this.dir, `${this.name}.crt`), '-CAkey', join(this.dir, `${this.name}.key`), '-set_serial', String(Date.now() * 100 + this.serial), '-out', `${base}.crt`, '-days', '2', '-extfile', `${base}.ext`],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(`${base}.key`, 'utf8'), cert: readFileSync(`${base}.crt`, 'utf8') };
  }
}

const quoted = (pem: string) => JSON.stringify(pem);

/** TF Serving's text-format SSLConfig with PEM text in its fields. */
export function sslConfigText(identity: Certificate, ca: string | undefined, clientVerify: boolean): string {
  return [`server_key: ${quoted(identity.key)}`, `server_cert: ${quoted(identity.cert)}`, ca ? `custom_ca: ${quoted(ca)}` : '', `client_verify: ${clientVerify}`].join('\n');
}

/** Replaces a file atomically (write aside, rename over), as certificate rotation should. */
export function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.next`, text);
  renameSync(`${path}.next`, path);
}

/** Runs `maas batch ARGS` to its end, with $MAAS_TOKEN cleared unless `env` sets it: its exit code and stdout+stderr. */
export async function runMaasBatch(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  const child = spawn(process.execPath, [MAAS_BIN, 'batch', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MAAS_TOKEN: '', ...env } });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, output };
}
