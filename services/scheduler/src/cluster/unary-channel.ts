import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { ConnectionOptions } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { ServingError } from '@maas/errors';
import { RECEIVE_WINDOW_BYTES } from '@maas/serving-api';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INADEQUATE_SECURITY, NGHTTP2_NO_ERROR } = http2.constants;
const USER_AGENT = 'maas-scheduler';
/** grpc-timeout takes at most 8 digits. */
const MAX_TIMEOUT_DIGITS = 99_999_999;

/** How calls to another role are secured: the cluster's mTLS and the service key (@maas/auth). */
export interface ChannelSecurity {
  /** TLS of each new connection (read then, so rotated certificates apply); absent: plaintext. */
  tls?: () => ConnectionOptions;
  /** Sent as `authorization` on every call. */
  authorization?: string;
}

export interface UnaryChannelOptions {
  maxMessageBytes: number;
  /** Ping interval, and how long a ping may go unanswered before the connection is dropped. */
  keepaliveMs: number;
  security?: ChannelSecurity;
}

/**
 * Unary gRPC calls of already-encoded messages to one peer over a single HTTP/2 connection, written
 * on node:http2 directly: the scheduler's hop needs none of a general gRPC client's layers (name
 * resolution, load balancing, interceptors, per-call filters), which were 12–34 % of its CPU per
 * forwarded request (docs/performance.md, Cluster). Speaks the gRPC wire protocol: length-prefixed message, grpc-timeout, status in
 * trailers. A connection that fails or goes away is replaced on the next call; a stream the peer
 * refused unprocessed (a draining worker's GOAWAY) is sent once more on a fresh connection.
 */
export class UnaryChannel {
  private session?: ClientHttp2Session;

  constructor(
    private readonly address: string,
    private readonly options: UnaryChannelOptions,
  ) {}

  /** The response message's bytes, or a ServingError with the peer's status (UNAVAILABLE when the connection failed). */
  call(path: string, request: Buffer, metadata: OutgoingHttpHeaders, deadline: number): Promise<Buffer> {
    if (request.length > this.options.maxMessageBytes) {
      return Promise.reject(new ServingError(status.RESOURCE_EXHAUSTED, `Sent message larger than max (${request.length} vs. ${this.options.maxMessageBytes})`));
    }
    return new Promise((resolve, reject) => this.attempt(path, request, metadata, deadline, true, resolve, reject));
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  private attempt(
    path: string,
    request: Buffer,
    metadata: OutgoingHttpHeaders,
    deadline: number,
    mayRetry: boolean,
    resolve: (response: Buffer) => void,
    reject: (error: ServingError) => void,
  ): void {
    const remaining = Math.ceil(deadline - Date.now());
    if (remaining <= 0) return reject(new ServingError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
    let session: ClientHttp2Session;
    let stream: ClientHttp2Stream;
    try {
      session = this.connection();
      stream = session.request({
        ...metadata,
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': USER_AGENT,
        'grpc-timeout': remaining > MAX_TIMEOUT_DIGITS ? `${Math.ceil(remaining / 1000)}S` : `${remaining}m`,
        ...(this.options.security?.authorization ? { authorization: this.options.security.authorization } : {}),
      });
    } catch (error) {
      // The connection closed between our check and the request (GOAWAY): one more try on a new one.
      this.drop();
      if (mayRetry) return this.attempt(path, request, metadata, deadline, false, resolve, reject);
      return reject(new ServingError(status.UNAVAILABLE, `${this.address}: ${(error as Error).message}`));
    }
    const prefix = Buffer.allocUnsafe(5);
    prefix[0] = 0;
    prefix.writeUInt32BE(request.length, 1);
    stream.cork();
    stream.write(prefix);
    stream.end(request);
    stream.uncork();

    const response = new ResponseReader(this.options.maxMessageBytes);
    let settled = false;
    let streamError: Error | undefined;
    const settle = (error: ServingError | undefined, message?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(message!);
    };
    const timer = setTimeout(() => {
      settle(new ServingError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
      stream.close(NGHTTP2_CANCEL);
    }, remaining);
    stream.on('response', (headers) => response.onHeaders(headers));
    stream.on('trailers', (trailers) => response.onHeaders(trailers));
    stream.on('data', (chunk: Buffer) => {
      const refusal = response.onData(chunk);
      if (refusal) {
        settle(refusal);
        stream.close(NGHTTP2_CANCEL);
      }
    });
    stream.on('error', (error: Error) => (streamError = error));
    stream.on('close', () => {
      if (settled) return;
      if (response.answered) return settle(...response.result());
      // Refused before the peer looked at it: safe to send again, once, on a new connection.
      if (stream.rstCode === NGHTTP2_REFUSED_STREAM && mayRetry) {
        settled = true;
        clearTimeout(timer);
        this.drop(session);
        return this.attempt(path, request, metadata, deadline, false, resolve, reject);
      }
      // A connection that ended under the call (peer killed, network gone) closes it with CANCEL too.
      const lost = session.destroyed || session.closed;
      settle(closedWithoutStatus(this.address, lost ? NGHTTP2_NO_ERROR : stream.rstCode, response.httpStatus, streamError));
    });
  }

  private connection(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const tls = this.options.security?.tls?.();
    const session = http2.connect(`${tls ? 'https' : 'http'}://${this.address}`, {
      ...tls,
      settings: { initialWindowSize: RECEIVE_WINDOW_BYTES, enablePush: false },
    });
    this.session = session;
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    // Streams report their own failure; the session only has to be replaced.
    session.on('error', forget);
    session.on('goaway', forget);
    // A 100 KB answer need not wait for a WINDOW_UPDATE.
    session.once('connect', () => session.setLocalWindowSize(RECEIVE_WINDOW_BYTES));
    const keepalive = setInterval(() => ping(session, this.options.keepaliveMs), this.options.keepaliveMs).unref();
    session.once('close', () => {
      clearInterval(keepalive);
      forget();
    });
    return session;
  }

  /** Stops sending new calls on a connection (the current one if none is given); calls on it finish. */
  private drop(session = this.session): void {
    if (this.session === session) this.session = undefined;
    if (session && !session.closed) session.close();
  }
}

/** A ping unanswered within `timeoutMs` means the peer is gone (hung, or its host down): drop the connection and its calls. */
function ping(session: ClientHttp2Session, timeoutMs: number): void {
  if (session.connecting || session.closed || session.destroyed) return;
  const timer = setTimeout(() => session.destroy(new Error(`keepalive ping not answered within ${timeoutMs} ms`)), timeoutMs);
  try {
    session.ping(() => clearTimeout(timer));
  } catch {
    clearTimeout(timer);
  }
}

/** Collects one length-prefixed response message and the status from the headers or trailers. */
class ResponseReader {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private code?: number;
  private details = '';
  httpStatus?: number;

  constructor(private readonly maxMessageBytes: number) {}

  get answered(): boolean {
    return this.code !== undefined;
  }

  onHeaders(headers: IncomingHttpHeaders): void {
    if (headers[':status'] !== undefined) this.httpStatus = Number(headers[':status']);
    const code = headers['grpc-status'];
    if (code === undefined) return;
    this.code = Number(code);
    const details = headers['grpc-message'];
    if (typeof details === 'string') this.details = decodeDetails(details);
  }

  /** A refusal once the prefix shows a message this side does not take. */
  onData(chunk: Buffer): ServingError | undefined {
    const before = this.received;
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (before >= 5 || this.received < 5) return undefined;
    const prefix = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.received);
    if (prefix[0] !== 0) return new ServingError(status.INTERNAL, 'Received a compressed message, but none was asked for');
    const length = prefix.readUInt32BE(1);
    if (length > this.maxMessageBytes) return new ServingError(status.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs. ${this.maxMessageBytes})`);
    return undefined;
  }

  result(): [ServingError | undefined, Buffer?] {
    if (this.code !== status.OK) return [new ServingError(this.code as status, this.details || `status ${this.code} without a message`)];
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.received);
    const length = body.length >= 5 ? body.readUInt32BE(1) : -1;
    if (length !== body.length - 5) return [new ServingError(status.INTERNAL, `Response has ${Math.max(0, body.length - 5)} message bytes after the prefix; expected one message of ${length < 0 ? 'unknown' : length} bytes`)];
    return [undefined, body.subarray(5)];
  }
}

/** grpc-message is percent-encoded; a malformed one is shown as it came. */
function decodeDetails(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A stream that ended without a gRPC status, mapped as grpc-js maps it. */
function closedWithoutStatus(address: string, rstCode: number, httpStatus: number | undefined, error: Error | undefined): ServingError {
  if (httpStatus !== undefined && httpStatus !== 200) return new ServingError(httpStatusCode(httpStatus), `${address} answered HTTP ${httpStatus}`);
  const cause = error ? `: ${error.message}` : '';
  switch (rstCode) {
    case NGHTTP2_CANCEL:
      return new ServingError(status.CANCELLED, `${address} cancelled the call${cause}`);
    case NGHTTP2_ENHANCE_YOUR_CALM:
      return new ServingError(status.RESOURCE_EXHAUSTED, `${address} refused the call as excessive load${cause}`);
    case NGHTTP2_INADEQUATE_SECURITY:
      return new ServingError(status.PERMISSION_DENIED, `${address} requires a more secure connection${cause}`);
    case NGHTTP2_NO_ERROR:
    case NGHTTP2_REFUSED_STREAM:
    default:
      // The connection failed or was lost (refused, reset, peer killed): the call may succeed elsewhere.
      return new ServingError(status.UNAVAILABLE, `Connection to ${address} failed or was lost${cause || ` (HTTP/2 code ${rstCode})`}`);
  }
}

/** https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md */
function httpStatusCode(httpStatus: number): status {
  switch (httpStatus) {
    case 400:
      return status.INTERNAL;
    case 401:
      return status.UNAUTHENTICATED;
    case 403:
      return status.PERMISSION_DENIED;
    case 404:
      return status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return status.UNAVAILABLE;
    default:
      return status.UNKNOWN;
  }
}
