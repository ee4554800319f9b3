import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AuditQuery, AuditRecord, AuditStore, StoredAuditRecord } from './store.js';

const COLUMNS = [
  'time', 'requestId', 'clientIp', 'method', 'path', 'terminalId', 'terminalRegion', 'department',
  'service', 'operation', 'backend', 'backendRegion', 'code', 'httpStatus', 'latencyMs',
  'requestSummary', 'responseSummary', 'reason',
] as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_records (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  requestId TEXT NOT NULL,
  clientIp TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  terminalId TEXT,
  terminalRegion TEXT,
  department TEXT,
  service TEXT,
  operation TEXT,
  backend TEXT,
  backendRegion TEXT,
  code TEXT NOT NULL,
  httpStatus INTEGER NOT NULL,
  latencyMs REAL NOT NULL,
  requestSummary TEXT,
  responseSummary TEXT,
  reason TEXT
);
CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records(time);
CREATE INDEX IF NOT EXISTS audit_records_terminal ON audit_records(terminalId, time);
CREATE TRIGGER IF NOT EXISTS audit_records_no_update BEFORE UPDATE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_records_no_delete BEFORE DELETE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
`;

const GROUP_COMMIT_MS = 1;

interface Pending {
  record: AuditRecord;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The embedded audit store: one SQLite file in WAL mode. Appends that arrive in the same tick
 * are committed in one transaction (group commit), and each caller is answered only after that
 * commit, so a record acknowledged to a client survives a crash of the gateway process.
 */
export class SqliteAuditStore implements AuditStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly insertMany: (batch: Pending[]) => void;
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  healthy = true;

  constructor(file: string, options: { readonly?: boolean } = {}) {
    if (!options.readonly) mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a commit survives a crash of this process (kill -9); FULL would add
      // an fsync per commit to survive power loss too.
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(SCHEMA);
    }
    this.db.pragma('busy_timeout = 2000');
    this.insert = options.readonly
      ? (undefined as unknown as Database.Statement)
      : this.db.prepare(`INSERT INTO audit_records (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    this.insertMany = this.db.transaction((batch: Pending[]) => {
      for (const { record } of batch) this.insert.run(toRow(record));
    });
  }

  append(record: AuditRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the audit store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // A commit costs far more than a row: records gather for up to a millisecond and are
        // committed together, each caller answered only after the commit.
        setTimeout(() => this.flush(), GROUP_COMMIT_MS);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      this.insertMany(batch);
      this.healthy = true;
    } catch (error) {
      this.healthy = false;
      for (const pending of batch) pending.reject(error as Error);
      return;
    }
    for (const pending of batch) pending.resolve();
  }

  async probe(): Promise<boolean> {
    if (this.closed) return false;
    try {
      // Takes and releases the write lock: fails when another writer holds it or the file is read-only.
      this.db.exec('BEGIN IMMEDIATE; ROLLBACK');
      return true;
    } catch {
      return false;
    }
  }

  async query({ limit, afterSeq }: AuditQuery): Promise<StoredAuditRecord[]> {
    const rows = afterSeq === undefined
      ? this.db.prepare('SELECT * FROM audit_records ORDER BY seq DESC LIMIT ?').all(limit)
      : this.db.prepare('SELECT * FROM audit_records WHERE seq > ? ORDER BY seq ASC LIMIT ?').all(afterSeq, limit);
    return (rows as Record<string, unknown>[]).map(fromRow);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }
}

/** Positional parameters: better-sqlite3 binds them faster than named ones. */
function toRow(record: AuditRecord): unknown[] {
  return COLUMNS.map((column) => record[column] ?? null);
}

function fromRow(row: Record<string, unknown>): StoredAuditRecord {
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (value !== null) record[key] = value;
  return record as unknown as StoredAuditRecord;
}
