import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteAuditStore } from '../audit/sqlite-store.js';
import type { StoredAuditRecord } from '../audit/store.js';

export interface TailOptions {
  file: string;
  count: number;
  follow: boolean;
  json: boolean;
  write: (text: string) => void;
}

const COLUMNS: Array<[string, (r: StoredAuditRecord) => string]> = [
  ['SEQ', (r) => String(r.seq)],
  ['TIME', (r) => r.time.replace('T', ' ').slice(0, 23)],
  ['TERMINAL', (r) => `${r.terminalId ?? '-'}${r.terminalRegion ? `@${r.terminalRegion}` : ''}`],
  ['OPERATION', (r) => (r.operation ? `${r.service}/${r.operation}` : r.service ?? r.path)],
  ['BACKEND', (r) => (r.backend ? `${r.backend}@${r.backendRegion}` : '-')],
  ['CODE', (r) => `${r.code} ${r.httpStatus}`],
  ['MS', (r) => r.latencyMs.toFixed(1)],
  ['SUMMARY', (r) => [r.requestSummary, r.responseSummary].filter(Boolean).join(' → ')],
];

function formatRecords(records: StoredAuditRecord[], json: boolean): string {
  if (json) return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
  const rows = records.map((r) => COLUMNS.map(([, cell]) => cell(r)));
  const widths = COLUMNS.map(([title], i) => Math.min(Math.max(title.length, ...rows.map((row) => row[i]!.length)), i === COLUMNS.length - 1 ? 200 : 40));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c.slice(0, widths[i]) : c.slice(0, widths[i]).padEnd(widths[i]!))).join('  ');
  return [line(COLUMNS.map(([title]) => title)), ...rows.map(line)].join('\n') + '\n';
}

/** Prints the newest records, oldest first; with follow, keeps printing new ones as they land. */
export async function tailAudit(options: TailOptions): Promise<void> {
  if (!existsSync(options.file)) throw new Error(`no audit trail at ${options.file} (has the gateway run with this data directory?)`);
  const store = new SqliteAuditStore(options.file, { readonly: true });
  try {
    const records = (await store.query({ limit: options.count })).reverse();
    options.write(formatRecords(records, options.json));
    let last = records.at(-1)?.seq ?? 0;
    while (options.follow) {
      await sleep(500);
      const fresh = await store.query({ limit: 500, afterSeq: last });
      if (fresh.length > 0) {
        options.write(options.json ? formatRecords(fresh, true) : formatRecords(fresh, false).split('\n').slice(1).join('\n'));
        last = fresh.at(-1)!.seq;
      }
    }
  } finally {
    await store.close();
  }
}
