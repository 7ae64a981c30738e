import { trace } from '@opentelemetry/api';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Callable as `log(message)` (info), so it fits every `(message: string) => void` in the codebase. */
export interface Logger {
  (message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** Field names whose values never reach a log line. */
const SECRET_FIELD = /pass|secret|token|authorization|api[_-]?key|cookie|credential/i;
/** user:password@ in URLs (a Redis URL with a password, say). */
const URL_CREDENTIALS = /(\/\/[^/:@\s]*):[^@\s/]*@/g;

/** MAAS_LOG_LEVEL: debug, info (default), warn or error. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const wanted = env.MAAS_LOG_LEVEL?.trim().toLowerCase();
  return wanted && wanted in LEVELS ? (wanted as LogLevel) : 'info';
}

export function redact(message: string): string {
  return message.replace(URL_CREDENTIALS, '$1:***@');
}

/**
 * One JSON object per line on stderr: time, level, role, msg, the active trace and span ids, and
 * the caller's fields (model, version, ...). stdout stays free for the ready line scripts parse.
 * Callers log names and numbers, never tensor contents; fields named like secrets are redacted.
 */
export function createLogger(role: string, level: LogLevel = logLevelFromEnv(), write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const threshold = LEVELS[level];
  const emit = (at: LogLevel, message: string, fields?: LogFields) => {
    if (LEVELS[at] < threshold) return;
    const span = trace.getActiveSpan()?.spanContext();
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: at, role, msg: redact(message) };
    if (span && span.traceId !== '00000000000000000000000000000000') {
      entry.trace_id = span.traceId;
      entry.span_id = span.spanId;
    }
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value !== undefined) entry[key] = SECRET_FIELD.test(key) ? '[redacted]' : typeof value === 'string' ? redact(value) : value;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
  return Object.assign((message: string, fields?: LogFields) => emit('info', message, fields), {
    debug: (message: string, fields?: LogFields) => emit('debug', message, fields),
    info: (message: string, fields?: LogFields) => emit('info', message, fields),
    warn: (message: string, fields?: LogFields) => emit('warn', message, fields),
    error: (message: string, fields?: LogFields) => emit('error', message, fields),
  });
}
