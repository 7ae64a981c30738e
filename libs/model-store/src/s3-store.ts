import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { FailedPreconditionError, UnavailableError, type ServingError } from '@maas/errors';
import { childLocation, parseS3Location } from './location.js';
import type { ModelFileCache } from './model-file-cache.js';
import { MODEL_FILE_NAME, parseVersionName, type LocalModel, type ModelStore } from './model-store.js';
import { objectStoreError } from './s3-errors.js';

export interface S3StoreOptions {
  /** An S3-compatible endpoint (MinIO, Ceph RGW, R2...); undefined: AWS's own for the region. */
  endpoint?: string;
  /** Where the buckets are; a bucket elsewhere is followed (S3 says which region it is in). */
  region: string;
  /** https://endpoint/bucket/key instead of https://bucket.endpoint/key (MinIO and most self-hosted stores). */
  forcePathStyle: boolean;
  /** Fixed keys; undefined: the SDK's default chain (AWS_ACCESS_KEY_ID..., web identity/IRSA, profiles, container and instance metadata). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  cache: ModelFileCache;
}

/**
 * The S3 settings of the standard AWS variables: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL,
 * AWS_REGION or AWS_DEFAULT_REGION (default us-east-1), and our AWS_S3_FORCE_PATH_STYLE=true for
 * path-style addressing. Credentials are left to the SDK's chain, which reads AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN among others.
 */
export function s3OptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<S3StoreOptions, 'cache'> {
  return {
    endpoint: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    forcePathStyle: env.AWS_S3_FORCE_PATH_STYLE === 'true',
  };
}

/** Listing pages (1,000 keys each) one scan may read: a base path is a model's versions, not a data lake. */
const MAX_LIST_PAGES = 100;
/** Downloads retried after UNAVAILABLE (the SDK already retries each request; this covers a body cut short). */
const DOWNLOAD_ATTEMPTS = 3;

/**
 * Models in S3 or an S3-compatible store, named `s3://bucket/prefix`. A scan is one
 * ListObjectsV2 (paged) under `prefix/`, picking the keys `prefix/<version>/model.onnx`; a load
 * HEADs the model for its ETag and downloads it into the cache only when that ETag is not there.
 * The SDK is imported on first use, so workers without s3:// models never load it.
 */
export class S3ModelStore implements ModelStore {
  private client?: Promise<{ sdk: typeof import('@aws-sdk/client-s3'); s3: S3Client }>;

  constructor(private readonly options: S3StoreOptions) {}

  private connect() {
    return (this.client ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      s3: new sdk.S3Client({
        region: this.options.region,
        endpoint: this.options.endpoint,
        forcePathStyle: this.options.forcePathStyle,
        credentials: this.options.credentials,
        followRegionRedirects: true,
        // A store that stops answering must not stall the worker's scans forever.
        requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
      }),
    })));
  }

  async scanVersions(basePath: string): Promise<Map<number, string>> {
    const { bucket, key } = parseS3Location(basePath);
    const prefix = key ? `${key}/` : '';
    const { sdk, s3 } = await this.connect();
    const versions = new Map<number, string>();
    let token: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const listed = await s3
        .send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
        .catch((error: unknown) => Promise.reject(objectStoreError(`Listing ${basePath}`, error)));
      for (const object of listed.Contents ?? []) {
        const [name, file, ...deeper] = (object.Key ?? '').slice(prefix.length).split('/');
        const version = parseVersionName(name ?? '');
        if (version === undefined || file !== MODEL_FILE_NAME || deeper.length > 0 || versions.has(version)) continue;
        versions.set(version, `s3://${bucket}/${object.Key}`);
      }
      if (!listed.IsTruncated) return versions;
      token = listed.NextContinuationToken;
    }
    throw new FailedPreconditionError(`${basePath} holds more than ${MAX_LIST_PAGES * 1000} objects; a base path should hold one model's versions`);
  }

  async readText(dir: string, name: string): Promise<string | undefined> {
    const location = childLocation(dir, name);
    const { bucket, key } = parseS3Location(location);
    const { sdk, s3 } = await this.connect();
    try {
      const object = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      return await object.Body!.transformToString('utf8');
    } catch (error) {
      if (error instanceof sdk.NoSuchKey) return undefined;
      throw objectStoreError(`Reading ${location}`, error);
    }
  }

  async materialize(location: string): Promise<LocalModel> {
    let failure: ServingError | undefined;
    for (let attempt = 1; attempt <= DOWNLOAD_ATTEMPTS; attempt++) {
      if (failure) await sleep(250 * attempt);
      try {
        return await this.download(location);
      } catch (error) {
        failure = objectStoreError(`Downloading ${location}`, error);
        if (!(failure instanceof UnavailableError)) throw failure;
      }
    }
    throw failure!;
  }

  private async download(location: string): Promise<LocalModel> {
    const { bucket, key } = parseS3Location(location);
    const { sdk, s3 } = await this.connect();
    const head = await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (!head.ETag || head.ContentLength === undefined) throw new UnavailableError(`${location} has no ETag or length in its HEAD response`);
    const etag = head.ETag;
    return this.options.cache.fetch({
      location,
      etag,
      size: head.ContentLength,
      // If-Match: an object replaced since the HEAD fails with 412 (retried) instead of mixing contents.
      open: async () => (await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }))).Body as Readable,
    });
  }
}
