import { dirname, isAbsolute, join } from 'node:path';

/**
 * A location is where a model directory or file lives: an absolute local path, or a URI. As in
 * TF Serving's ParseURI, a URI is a scheme (a letter, then letters, digits and dots) followed by
 * "://"; anything else is a path ("E:/models" and "foo:bar" are relative paths, not URIs).
 */
const URI_SCHEME = /^([A-Za-z][A-Za-z0-9.]*):\/\//;

/** Schemes a base path may use (besides plain absolute paths). */
export const SUPPORTED_SCHEMES = ['file', 's3'] as const;
export type SupportedScheme = (typeof SUPPORTED_SCHEMES)[number];

/** The scheme of a URI in lower case, or undefined for a path. */
export function uriScheme(location: string): string | undefined {
  return URI_SCHEME.exec(location)?.[1]?.toLowerCase();
}

export function isSupportedScheme(scheme: string): scheme is SupportedScheme {
  return (SUPPORTED_SCHEMES as readonly string[]).includes(scheme);
}

/** `name` inside directory `dir`, in the same form as `dir` (a path stays a path, a URI a URI). */
export function childLocation(dir: string, name: string): string {
  if (uriScheme(dir) === undefined) return join(dir, name);
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The directory holding `location` (a version directory for a model file). */
export function parentLocation(location: string): string {
  const scheme = uriScheme(location);
  if (scheme === undefined) return dirname(location);
  const trimmed = location.replace(/\/+$/, '');
  const authorityEnd = trimmed.indexOf('/', scheme.length + 3);
  if (authorityEnd < 0) return trimmed; // s3://bucket is its own parent
  const cut = trimmed.lastIndexOf('/');
  // file:///m is in file:/// (no authority); s3://bucket/m is in s3://bucket.
  const rootWithoutAuthority = cut === authorityEnd && authorityEnd === scheme.length + 3;
  return rootWithoutAuthority ? trimmed.slice(0, cut + 1) : trimmed.slice(0, cut);
}

/** Why `basePath` cannot be a model's base path, or undefined when it can. */
export type BasePathProblem = { kind: 'relative' } | { kind: 'unsupported-scheme'; scheme: string } | { kind: 'malformed'; reason: string };

export function basePathProblem(basePath: string): BasePathProblem | undefined {
  const scheme = uriScheme(basePath);
  if (scheme === undefined) return isAbsolute(basePath) ? undefined : { kind: 'relative' };
  if (!isSupportedScheme(scheme)) return { kind: 'unsupported-scheme', scheme };
  const reason = scheme === 's3' ? s3LocationProblem(basePath) : fileUriProblem(basePath);
  return reason === undefined ? undefined : { kind: 'malformed', reason };
}

function fileUriProblem(uri: string): string | undefined {
  const host = /^file:\/\/([^/]*)/i.exec(uri)?.[1] ?? '';
  // Only this machine's files: file:///models/m or file://localhost/models/m.
  if (host !== '' && host.toLowerCase() !== 'localhost') return `a file URI names a file on this machine (file:///path), not on host "${host}"`;
  return undefined;
}

/** An object store location: a bucket and a key (or key prefix, without a trailing "/"). */
export interface S3Location {
  bucket: string;
  key: string;
}

/** Bucket naming rules S3 and compatible stores (MinIO) share. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function s3LocationProblem(uri: string): string | undefined {
  const { bucket } = splitS3(uri);
  return BUCKET_NAME.test(bucket) ? undefined : `"${bucket}" is not a bucket name (3-63 lower-case letters, digits, dots and hyphens)`;
}

function splitS3(uri: string): S3Location {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  // Keys are taken literally, as the AWS CLI does: no percent-decoding.
  return slash < 0 ? { bucket: rest, key: '' } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1).replace(/\/+$/, '') };
}

/** Bucket and key of an s3:// location; throws on one basePathProblem would refuse. */
export function parseS3Location(uri: string): S3Location {
  if (uriScheme(uri) !== 's3') throw new TypeError(`not an s3:// URI: ${uri}`);
  const problem = s3LocationProblem(uri);
  if (problem) throw new TypeError(`${uri}: ${problem}`);
  return splitS3(uri);
}
