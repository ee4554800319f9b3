import { BaygateError } from '../errors.js';
import { schemaErrorDetails } from '../../policies/json-schemas.js';
import type { Adapter } from '../../adapters/adapter.js';
import type { AuditStore } from '../../audit/store.js';
import type { Stage } from '../context.js';

/** Sends the validated object (not the bytes received) to the operation's backend adapter. */
export function invokeBackend(config: { adapters: ReadonlyMap<string, Adapter>; audit: AuditStore }): Stage {
  return async function invokeBackend(ctx) {
    const bg = ctx.state.bg;
    if (bg.route?.kind !== 'operation') return;
    // PROTOCOL.md §5: when the trail cannot be written, nothing is done. After a failed write
    // the store is probed before any backend is called again.
    if (!config.audit.healthy && !(await config.audit.probe())) {
      throw new BaygateError('BG_AUDIT_UNAVAILABLE', { reason: 'the audit store is failing; the backend was not called' });
    }
    const operation = bg.route.operation;
    const adapter = config.adapters.get(operation.config.backend)!;
    const data = await adapter.invoke({
      requestId: bg.requestId,
      terminalId: bg.terminal!.config.id,
      operation,
      input: bg.input,
    });
    if (operation.validateResponse && !operation.validateResponse(data)) {
      throw new BaygateError('BG_UPSTREAM_FAULT', {
        details: [{ message: 'the backend reply does not match the operation response schema' }],
        reason: JSON.stringify(schemaErrorDetails(operation.validateResponse.errors)),
      });
    }
    bg.data = data;
  };
}
