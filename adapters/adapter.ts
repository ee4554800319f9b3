import type { LoadedOperation } from '../policies/load.js';

/** One call of an operation, as an adapter sees it: the validated input, never the raw bytes. */
export interface OperationCall {
  requestId: string;
  terminalId: string;
  operation: LoadedOperation;
  input: unknown;
}

/**
 * A department backend. `invoke` answers the operation's data, or throws a BaygateError with
 * BG_UPSTREAM_UNAVAILABLE, BG_UPSTREAM_FAULT or BG_UPSTREAM_TIMEOUT. Targets come only from
 * the policy, never from the request.
 */
export interface Adapter {
  readonly backendId: string;
  invoke(call: OperationCall): Promise<unknown>;
  close(): Promise<void>;
}

/** Fills `{field}` placeholders from the validated input and the call's identity. */
export function fillTemplate(template: string, call: OperationCall, encode: (value: string) => string): string {
  const input = (call.input ?? {}) as Record<string, unknown>;
  return template.replace(/\{([^}]+)\}/g, (_, field: string) => {
    const value = field === 'requestId' ? call.requestId : field === 'terminalId' ? call.terminalId : input[field];
    return value === undefined || value === null ? '' : encode(typeof value === 'string' ? value : JSON.stringify(value));
  });
}
