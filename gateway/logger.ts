import { maskString } from '../audit/mask.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * JSON lines on a stream. Every string that reaches a log line passes the masking detectors, so
 * an ID number or phone number inside an error message is masked too.
 */
export function createLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const log = (level: Exclude<LogLevel, 'silent'>) => (message: string, fields: Record<string, unknown> = {}) => {
    if (RANK[level] < threshold) return;
    const masked: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) masked[key] = typeof value === 'string' ? maskString(value) : value;
    write(JSON.stringify({ time: new Date().toISOString(), level, message: maskString(message), ...masked }));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
