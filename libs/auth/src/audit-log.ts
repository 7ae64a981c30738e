import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { status } from '@grpc/grpc-js';

/** One administrative action: who, what, when, outcome. */
export interface AuditEntry {
  /** ISO 8601, when the call ended. */
  time: string;
  principal: string;
  /** The caller's address. */
  peer: string;
  /** The gRPC method path or `<HTTP method> <path>`. */
  action: string;
  /** The models the call named, or ["*"] for calls about the whole cluster. */
  target: string[];
  outcome: 'ok' | 'denied' | 'unauthenticated' | 'failed';
  /** The gRPC status name (OK, PERMISSION_DENIED, ...). */
  code: string;
  /** The status message of a call that did not succeed. */
  message?: string;
}

const CODE_NAMES = new Map<number, string>(Object.entries(status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));

function outcomeOf(code: number): AuditEntry['outcome'] {
  if (code === status.OK) return 'ok';
  if (code === status.PERMISSION_DENIED) return 'denied';
  if (code === status.UNAUTHENTICATED) return 'unauthenticated';
  return 'failed';
}

/** Appends audit entries as JSON lines to a file (opened for append) or a stream ('-' is stderr). */
export class AuditLog {
  private readonly sink: Writable;
  private readonly owned: boolean;

  constructor(destination: string | Writable) {
    this.owned = typeof destination === 'string' && destination !== '-';
    this.sink = typeof destination !== 'string' ? destination : destination === '-' ? process.stderr : createWriteStream(destination, { flags: 'a' });
  }

  record(call: { principal: string; peer: string; action: string; target: readonly string[]; code: number; message?: string }): void {
    const entry: AuditEntry = {
      time: new Date().toISOString(),
      principal: call.principal,
      peer: call.peer,
      action: call.action,
      target: [...call.target],
      outcome: outcomeOf(call.code),
      code: CODE_NAMES.get(call.code) ?? String(call.code),
      ...(call.code !== status.OK && call.message ? { message: call.message } : {}),
    };
    this.sink.write(`${JSON.stringify(entry)}\n`);
  }

  /** Flushes and closes a file this log opened (streams passed in stay open). */
  close(): Promise<void> {
    if (!this.owned) return Promise.resolve();
    return new Promise((resolve) => this.sink.end(resolve));
  }
}
