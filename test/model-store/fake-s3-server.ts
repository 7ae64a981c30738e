/**
 * A small S3-compatible HTTP server on loopback, for testing the s3:// model store where no real
 * object store is reachable (this is the one fake the model-store tests use). It implements what
 * the store calls, path-style: ListObjectsV2 (paged), HEAD and GET of objects with ETags and
 * If-Match, S3's XML errors, and it checks every request's AWS Signature Version 4 against its
 * own key pair, refusing an unsigned or wrongly signed request as S3 does (403).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeS3Options {
  /** Keys per ListObjectsV2 page at most (S3's is 1,000), so tests can make the store page. */
  pageSize?: number;
}

export interface FakeS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Env that points the AWS SDK (and `maas`) at this server. */
  env: Record<string, string>;
  createBucket(bucket: string): void;
  /** Stores an object whole, as a PUT does: readers see the old content or the new, never a mix. */
  put(bucket: string, key: string, body: Uint8Array | string): void;
  remove(bucket: string, key: string): void;
  /** Every authenticated request, as "METHOD bucket/key" or "LIST bucket prefix". */
  readonly requests: string[];
  /** Why requests were refused (signature problems). */
  readonly refused: string[];
  /** The next `count` GETs of `key` send half the body, then cut the connection. */
  cutDownloads(key: string, count: number): void;
  close(): Promise<void>;
}

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
}

const xmlEscape = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const strictEncode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256Hex = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export async function startFakeS3(options: FakeS3Options = {}): Promise<FakeS3> {
  const region = 'eu-test-1';
  const accessKeyId = 'AKIAFAKES3TEST';
  const secretAccessKey = 'fake-secret-key-for-loopback-tests';
  const pageSize = options.pageSize ?? 1000;
  const buckets = new Map<string, Map<string, StoredObject>>();
  const requests: string[] = [];
  const refused: string[] = [];
  const cuts = new Map<string, number>();

  /** Why the request's SigV4 signature is not valid, or undefined when it is. */
  function signatureProblem(req: IncomingMessage, rawPath: string, rawQuery: string): string | undefined {
    const match = AUTHORIZATION.exec(req.headers.authorization ?? '');
    if (!match) return `malformed or missing Authorization: ${req.headers.authorization ?? '(none)'}`;
    const [, keyId, date, signedRegion, signedHeaders, signature] = match as unknown as string[];
    if (keyId !== accessKeyId) return `unknown access key ${keyId}`;
    if (signedRegion !== region) return `signed for region ${signedRegion}, not ${region}`;
    const amzDate = req.headers['x-amz-date'];
    if (typeof amzDate !== 'string' || !amzDate.startsWith(date!)) return `x-amz-date ${String(amzDate)} does not match the credential date ${date}`;
    const signedAt = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    if (!(Math.abs(Date.now() - signedAt) < 15 * 60_000)) return `request time ${amzDate} is too far from now`;
    const names = signedHeaders!.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date')) return `SignedHeaders ${signedHeaders} lacks host or x-amz-date`;
    const payloadHash = req.headers['x-amz-content-sha256'];
    if (typeof payloadHash !== 'string') return 'no x-amz-content-sha256';
    const canonicalQuery = rawQuery
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const [k = '', v = ''] = pair.split('=');
        return [strictEncode(decodeURIComponent(k)), strictEncode(decodeURIComponent(v.replace(/\+/g, '%20')))] as const;
      })
      .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const canonicalHeaders = names.map((name) => `${name}:${String(req.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
    const canonicalRequest = [req.method, rawPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
    const scope = `${date}/${region}/s3/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date!), region), 's3'), 'aws4_request');
    const expected = hmac(key, stringToSign);
    if (!timingSafeEqual(expected, Buffer.from(signature!, 'hex'))) return `signature does not match (canonical request:\n${canonicalRequest})`;
    return undefined;
  }

  function sendError(res: ServerResponse, status: number, code: string, message: string, head = false): void {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(head ? undefined : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>fake</RequestId></Error>`);
  }

  function list(res: ServerResponse, bucket: string, objects: Map<string, StoredObject>, query: URLSearchParams): void {
    if (query.get('list-type') !== '2') return sendError(res, 400, 'InvalidArgument', 'only ListObjectsV2 is implemented');
    const prefix = query.get('prefix') ?? '';
    const after = query.get('continuation-token') ? Buffer.from(query.get('continuation-token')!, 'base64url').toString() : '';
    const maxKeys = Math.min(pageSize, Number(query.get('max-keys') ?? 1000));
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, maxKeys);
    const truncated = keys.length > page.length;
    requests.push(`LIST ${bucket} ${prefix}`);
    const contents = page
      .map((key) => {
        const object = objects.get(key)!;
        return `<Contents><Key>${xmlEscape(key)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(object.etag)}</ETag><Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    const next = truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1)!).toString('base64url')}</NextContinuationToken>` : '';
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
        `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`,
    );
  }

  function object(req: IncomingMessage, res: ServerResponse, bucket: string, key: string, objects: Map<string, StoredObject>): void {
    const head = req.method === 'HEAD';
    requests.push(`${req.method} ${bucket}/${key}`);
    const stored = objects.get(key);
    if (!stored) return sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.', head);
    const ifMatch = req.headers['if-match'];
    if (ifMatch && ifMatch !== stored.etag) return sendError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', head);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': stored.body.length,
      etag: stored.etag,
      'last-modified': stored.lastModified.toUTCString(),
    });
    if (head) return void res.end();
    const cutsLeft = cuts.get(key) ?? 0;
    if (cutsLeft > 0) {
      cuts.set(key, cutsLeft - 1);
      res.write(stored.body.subarray(0, stored.body.length >> 1), () => res.destroy());
      return;
    }
    res.end(stored.body);
  }

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const [rawPath = '/', rawQuery = ''] = url.split('?', 2) as [string, string?];
    const problem = signatureProblem(req, rawPath, rawQuery);
    if (problem) {
      refused.push(problem);
      return sendError(res, 403, 'SignatureDoesNotMatch', problem, req.method === 'HEAD');
    }
    const [bucket = '', ...keyParts] = rawPath.slice(1).split('/').map(decodeURIComponent);
    const objects = buckets.get(bucket);
    if (!objects) return sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', req.method === 'HEAD');
    const key = keyParts.join('/');
    if (req.method === 'GET' && key === '') return list(res, bucket, objects, new URLSearchParams(rawQuery));
    if ((req.method === 'GET' || req.method === 'HEAD') && key !== '') return object(req, res, bucket, key, objects);
    sendError(res, 405, 'MethodNotAllowed', `${req.method} is not implemented here`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const bucketOf = (bucket: string) => {
    const objects = buckets.get(bucket);
    if (!objects) throw new Error(`no bucket ${bucket}`);
    return objects;
  };
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    env: { AWS_ENDPOINT_URL: endpoint, AWS_REGION: region, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_S3_FORCE_PATH_STYLE: 'true' },
    createBucket: (bucket) => void buckets.set(bucket, buckets.get(bucket) ?? new Map()),
    put(bucket, key, body) {
      const bytes = Buffer.from(body);
      bucketOf(bucket).set(key, { body: bytes, etag: `"${createHash('md5').update(bytes).digest('hex')}"`, lastModified: new Date() });
    },
    remove: (bucket, key) => void bucketOf(bucket).delete(key),
    requests,
    refused,
    cutDownloads: (key, count) => void cuts.set(key, count),
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
