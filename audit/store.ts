// One audit record per request, accepted or refused. Summaries are masked before they get here;
// the raw payload never does.

export interface AuditRecord {
  time: string;
  requestId: string;
  clientIp: string;
  method: string;
  path: string;
  terminalId?: string;
  terminalRegion?: string;
  department?: string;
  service?: string;
  operation?: string;
  backend?: string;
  backendRegion?: string;
  code: string;
  httpStatus: number;
  latencyMs: number;
  /** Masked JSON summary of the validated request. */
  requestSummary?: string;
  /** Masked JSON summary of the answer's data or refusal details. */
  responseSummary?: string;
  /** Why a request was refused, for auditors only (e.g. which signature check failed); masked. */
  reason?: string;
}

export interface StoredAuditRecord extends AuditRecord {
  seq: number;
}

export interface AuditQuery {
  limit: number;
  /** Only records with a larger sequence number (for following the trail). */
  afterSeq?: number;
}

/**
 * The audit store. `append` resolves only once the record is durable; a rejection means the
 * request must be refused with BG_AUDIT_UNAVAILABLE (fail closed).
 */
export interface AuditStore {
  append(record: AuditRecord): Promise<void>;
  /** Newest first when afterSeq is absent; oldest first after afterSeq. */
  query(query: AuditQuery): Promise<StoredAuditRecord[]>;
  /** False after a write failed, until a write succeeds again. */
  readonly healthy: boolean;
  /** Whether a write could be made now (after a failure, before calling a backend). */
  probe(): Promise<boolean>;
  close(): Promise<void>;
}
