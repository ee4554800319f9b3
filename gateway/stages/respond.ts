import { performance } from 'node:perf_hooks';
import { BaygateError, CODES, type ErrorCode } from '../errors.js';
import type { Masker } from '../../audit/mask.js';
import type { AuditRecord, AuditStore } from '../../audit/store.js';
import type { Logger } from '../logger.js';
import type { BackendConfig } from '../../policies/types.js';
import type { BaygateContext, Stage } from '../context.js';
import { ENCRYPTED_CONTENT_TYPE, responseStringToSign, sealEnvelope } from '../../client/protocol.js';
import { sm2SignAsync } from '../../crypto/sm2.js';
import type { GatewayKeySet } from '../../policies/gateway-keys.js';

export interface RespondConfig {
  audit: AuditStore;
  gatewayKeys: GatewayKeySet;
  masker: Masker;
  summaryMaxChars: number;
  backends: Readonly<Record<string, BackendConfig>>;
  logger: Logger;
}

function toBaygateError(error: unknown, ctx: BaygateContext, logger: Logger): BaygateError {
  if (error instanceof BaygateError) return error;
  logger.error('unexpected fault in the pipeline', {
    requestId: ctx.state.bg.requestId,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
  return new BaygateError('BG_INTERNAL', { reason: error instanceof Error ? error.message : String(error) });
}

function auditRecord(ctx: BaygateContext, code: ErrorCode | 'OK', status: number, error: BaygateError | undefined, config: RespondConfig): AuditRecord {
  const bg = ctx.state.bg;
  const operation = bg.route?.kind === 'operation' ? bg.route.operation : undefined;
  const backend = operation ? config.backends[operation.config.backend] : undefined;
  const terminal = bg.terminal?.config;
  return {
    time: new Date().toISOString(),
    requestId: bg.requestId,
    clientIp: bg.clientIp,
    method: ctx.method,
    path: bg.path.slice(0, 256),
    terminalId: terminal?.id ?? bg.token?.clientId,
    terminalRegion: terminal?.region,
    department: terminal?.department,
    service: operation?.service ?? (bg.route && bg.route.kind !== 'operation' ? bg.route.kind : undefined),
    operation: operation?.name,
    backend: operation?.config.backend,
    backendRegion: backend?.region,
    code,
    httpStatus: status,
    latencyMs: Math.round((performance.now() - bg.startedAt) * 1000) / 1000,
    requestSummary: config.masker.summary(bg.input, config.summaryMaxChars),
    responseSummary: config.masker.summary(error ? error.details : bg.data, config.summaryMaxChars),
    reason: error?.reason === undefined ? undefined : config.masker.summary(error.reason, 1024),
  };
}

/**
 * The outermost stage: turns the outcome into the PROTOCOL.md §3 envelope, writes the one audit
 * record of the request before anything is sent, and refuses with BG_AUDIT_UNAVAILABLE when the
 * record cannot be written; then seals the answer to an encrypted request and signs it.
 */
export function respond(config: RespondConfig): Stage {
  return async function respond(ctx, next) {
    const bg = ctx.state.bg;
    let error: BaygateError | undefined;
    try {
      await next();
    } catch (caught) {
      error = toBaygateError(caught, ctx, config.logger);
    }
    if (bg.delegated && !error) {
      // The authorization server has answered already; its outcome is recorded after the fact.
      const status = ctx.res.statusCode;
      const code = bg.delegated.oauthError ? `oauth:${bg.delegated.oauthError}` : status < 400 ? 'OK' : `oauth:http_${status}`;
      await config.audit.append({ ...auditRecord(ctx, 'OK', status, undefined, config), code, terminalId: bg.delegated.clientId })
        .catch((auditError: Error) => config.logger.error('audit record of a token request could not be written', { requestId: bg.requestId, error: auditError.message }));
      return;
    }
    let code: ErrorCode | 'OK' = error?.code ?? 'OK';
    let status = error?.status ?? 200;
    try {
      await config.audit.append(auditRecord(ctx, code, status, error, config));
    } catch (auditError) {
      config.logger.error('audit record could not be written; refusing the request', { requestId: bg.requestId, error: (auditError as Error).message });
      error = new BaygateError('BG_AUDIT_UNAVAILABLE');
      code = error.code;
      status = error.status;
    }

    ctx.status = status;
    ctx.set('X-Bg-Request-Id', bg.requestId);
    if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
    let text: string;
    if (error) {
      for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
      const info = CODES[error.code];
      const body: Record<string, unknown> = { code, message: info.message, messageEn: info.messageEn, requestId: bg.requestId };
      if (error.details && error.expose) body.details = config.masker.mask(error.details);
      text = JSON.stringify(body);
    } else if (bg.document !== undefined) {
      text = JSON.stringify(bg.document);
    } else {
      text = JSON.stringify({ code: 'OK', message: '成功', messageEn: 'OK', requestId: bg.requestId, data: bg.data ?? null });
    }
    let payload = Buffer.from(text);
    if (bg.session) {
      // PROTOCOL.md §4: the answer to an opened envelope is sealed under the same K.
      payload = Buffer.from(JSON.stringify(sealEnvelope(payload, bg.session.key, bg.session.kid)));
      ctx.type = ENCRYPTED_CONTENT_TYPE;
    } else {
      ctx.type = 'application/json; charset=utf-8';
    }
    const timestamp = String(Date.now());
    ctx.set('X-Bg-Timestamp', timestamp);
    if (signs(bg)) await signResponse(ctx, status, timestamp, payload, config);
    ctx.body = payload;
  };
}

/**
 * PROTOCOL.md §3: responses are signed unless the route turns it off. Refusals made before the
 * token was accepted (path, address checks, token) are not signed, so that traffic nobody has
 * authenticated cannot make the gateway spend an SM2 signature per request.
 */
function signs(bg: BaygateContext['state']['bg']): boolean {
  if (!bg.token) return false;
  return bg.route?.kind !== 'operation' || bg.route.operation.config.signResponse;
}

async function signResponse(ctx: BaygateContext, status: number, timestamp: string, payload: Buffer, config: RespondConfig): Promise<void> {
  const key = config.gatewayKeys.signing();
  if (!key) {
    config.logger.error('no valid gateway signing key (gateway.keys, use: sig); the response goes unsigned', { requestId: ctx.state.bg.requestId });
    return;
  }
  try {
    const signature = await sm2SignAsync(key.key, responseStringToSign(ctx.state.bg.requestId, status, timestamp, payload));
    ctx.set('X-Bg-Key-Id', key.id);
    ctx.set('X-Bg-Signature', signature.toString('base64'));
  } catch (error) {
    config.logger.error('the response could not be signed; it goes unsigned', { requestId: ctx.state.bg.requestId, error: (error as Error).message });
  }
}
