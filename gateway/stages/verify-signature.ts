import { NONCE_PATTERN, requestStringToSign } from '../../client/protocol.js';
import { sm2VerifyAsync } from '../../crypto/sm2.js';
import type { TerminalKey } from '../../policies/gateway-keys.js';
import { readRawBody } from '../body.js';
import { BaygateError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { NonceStore } from '../state/nonce-store.js';
import type { Stage } from '../context.js';

const TIMESTAMP = /^\d{1,15}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A DER SM2 signature is at most 72 bytes; base64 of that is 96 characters. */
const MAX_SIGNATURE_CHARS = 100;

export interface VerifySignatureConfig {
  windowSeconds: number;
  nonces: NonceStore;
  logger: Logger;
  now?: () => number;
}

const missing = (header: string) =>
  new BaygateError('BG_SIGNATURE_MISSING', { details: [{ message: `the ${header} header is required on every call (PROTOCOL.md §2)` }] });

/**
 * PROTOCOL.md §2: signature headers, the timestamp window, the SM2 signature over §2.1's string
 * with the terminal's registered key, then the nonce. The nonce is remembered only once the
 * signature has verified, so that nobody but the terminal can use up its nonces; a nonce store
 * fault refuses the request (fails closed).
 */
export function verifySignature(config: VerifySignatureConfig): Stage {
  const windowMs = config.windowSeconds * 1000;
  // Twice the window (a timestamp is acceptable for 2 × window of gateway time) and a second more.
  const nonceTtlMs = 2 * windowMs + 1000;
  const now = config.now ?? Date.now;
  return async function verifySignature(ctx, next) {
    const bg = ctx.state.bg;
    if (bg.route?.kind !== 'operation') return next();
    const terminal = bg.terminal!;
    const timestamp = ctx.get('x-bg-timestamp');
    const nonce = ctx.get('x-bg-nonce');
    const signatureText = ctx.get('x-bg-signature');
    const keyId = ctx.get('x-bg-key-id');
    if (!timestamp) throw missing('X-Bg-Timestamp');
    if (!nonce) throw missing('X-Bg-Nonce');
    if (!signatureText) throw missing('X-Bg-Signature');
    if (!TIMESTAMP.test(timestamp)) {
      throw new BaygateError('BG_BAD_REQUEST', { details: [{ message: 'X-Bg-Timestamp must be milliseconds since the Unix epoch, in decimal digits' }] });
    }
    if (!NONCE_PATTERN.test(nonce)) {
      throw new BaygateError('BG_BAD_REQUEST', { details: [{ message: 'X-Bg-Nonce must be 16 to 64 characters of A-Z a-z 0-9 _ -' }] });
    }
    const skewMs = Number(timestamp) - now();
    if (Math.abs(skewMs) > windowMs) {
      const direction = skewMs > 0 ? 'ahead of' : 'behind';
      throw new BaygateError('BG_TIMESTAMP_OUT_OF_WINDOW', {
        details: [{ message: `X-Bg-Timestamp is ${Math.round(Math.abs(skewMs) / 1000)} s ${direction} the gateway's clock; the window is ±${config.windowSeconds} s (the gateway's time is in the X-Bg-Timestamp response header)` }],
      });
    }

    let keys: TerminalKey[];
    if (keyId) {
      const key = terminal.signingKeys.get(keyId);
      if (!key) {
        throw new BaygateError('BG_SIGNATURE_INVALID', {
          details: [{ message: `X-Bg-Key-Id "${keyId.slice(0, 64)}" is not a key registered for this terminal` }],
        });
      }
      keys = [key];
    } else {
      keys = [...terminal.signingKeys.values()];
    }

    const body = await readRawBody(ctx, bg.route.operation.bodyLimitBytes);
    const raw = ctx.req.url ?? '';
    const q = raw.indexOf('?');
    const signed = requestStringToSign({
      method: ctx.method,
      path: bg.path,
      query: q === -1 ? '' : raw.slice(q + 1),
      clientId: terminal.config.id,
      timestamp,
      nonce,
      body,
    });
    const signature = signatureText.length <= MAX_SIGNATURE_CHARS && BASE64.test(signatureText) ? Buffer.from(signatureText, 'base64') : undefined;
    let verifiedBy: TerminalKey | undefined;
    if (signature) {
      for (const key of keys) {
        if (await sm2VerifyAsync(key.key, signed, signature, { id: key.distinguishingId })) {
          verifiedBy = key;
          break;
        }
      }
    }
    if (!verifiedBy) {
      throw new BaygateError('BG_SIGNATURE_INVALID', {
        reason: signature ? `no registered key of ${terminal.config.id} verifies the signature${keyId ? ` (key ${keyId})` : ''}` : 'X-Bg-Signature is not base64 of a DER signature',
      });
    }
    bg.signingKeyId = verifiedBy.id;

    let fresh: boolean;
    try {
      fresh = await config.nonces.remember(terminal.config.id, nonce, nonceTtlMs);
    } catch (error) {
      config.logger.error('the nonce store failed; refusing the request', { requestId: bg.requestId, error: (error as Error).message });
      throw new BaygateError('BG_INTERNAL', { reason: `nonce store: ${(error as Error).message}` });
    }
    if (!fresh) {
      throw new BaygateError('BG_NONCE_REPLAYED', { details: [{ message: 'this X-Bg-Nonce was already used; draw a new one for every request, retries included' }] });
    }
    return next();
  };
}
