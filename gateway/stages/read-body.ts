import { envelopeProblem, openEnvelope, splitSessionKey, decodeBase64, type Envelope } from '../../client/protocol.js';
import { sm2DecryptAsync } from '../../crypto/sm2.js';
import type { GatewayKeySet } from '../../policies/gateway-keys.js';
import { readRawBody } from '../body.js';
import { BaygateError } from '../errors.js';
import { parseStrictJson, StrictJsonError } from '../strict-json.js';
import type { BaygateContext, Stage } from '../context.js';

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const ENCRYPTED_TYPE = /^application\/vnd\.baygate\.enc\+json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** An SM2 ciphertext of 32 bytes in GM/T 0009 DER is about 140 bytes; refuse anything far larger unread. */
const MAX_EK_BYTES = 256;

export interface ReadBodyConfig {
  maxDepth: number;
  gatewayKeys: GatewayKeySet;
}

function parseJson(bytes: Buffer, maxDepth: number, what: string): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new BaygateError('BG_BAD_REQUEST', { details: [{ message: `${what} is not valid UTF-8` }] });
  }
  try {
    return parseStrictJson(text, maxDepth);
  } catch (error) {
    if (!(error instanceof StrictJsonError)) throw error;
    throw new BaygateError('BG_BAD_REQUEST', { details: [{ path: error.pointer, message: `${what}: ${error.message} (at byte ${error.position})` }] });
  }
}

const decryptionFailed = (reason: string, detail?: string) =>
  new BaygateError('BG_DECRYPTION_FAILED', { reason, details: detail ? [{ message: detail }] : undefined });

/**
 * PROTOCOL.md §4: the envelope's shape, the gateway key it names, K from `ek` (SM2), the MAC,
 * then SM4-CBC. One opaque refusal for a bad ek, MAC or ciphertext; only the reason in the
 * audit record says which.
 */
async function openEncryptedBody(ctx: BaygateContext, body: Buffer, config: ReadBodyConfig): Promise<Buffer> {
  const envelope = parseJson(body, 2, 'the envelope') as Envelope;
  const problem = envelopeProblem(envelope, true);
  if (problem) throw new BaygateError('BG_BAD_REQUEST', { details: [{ message: `not a PROTOCOL.md §4 envelope: ${problem}` }] });
  const gatewayKey = config.gatewayKeys.encryption(envelope.kid);
  if (!gatewayKey) {
    throw decryptionFailed(`unknown encryption key ${envelope.kid}`, `kid "${envelope.kid.slice(0, 64)}" is not a current gateway encryption key; fetch /.well-known/baygate/keys`);
  }
  const ek = decodeBase64(envelope.ek);
  if (!ek || ek.length > MAX_EK_BYTES) throw decryptionFailed('ek is not base64 of an SM2 ciphertext');
  const k = await sm2DecryptAsync(gatewayKey.key, ek);
  const key = k && splitSessionKey(k);
  if (!key) throw decryptionFailed(k ? `K is ${k.length} bytes, not 32` : 'ek does not decrypt under the named key');
  const plaintext = openEnvelope(envelope, key);
  if (!plaintext) throw decryptionFailed('the MAC does not match, or the ciphertext does not decrypt');
  // From here on every answer, refusals included, is sealed under K (PROTOCOL.md §4).
  ctx.state.bg.session = { key, kid: envelope.kid };
  return plaintext;
}

/** Content type, body limit, decryption (PROTOCOL.md §4) and strict JSON parsing. */
export function readBody(config: ReadBodyConfig): Stage {
  return async function readBody(ctx, next) {
    const bg = ctx.state.bg;
    if (bg.route?.kind !== 'operation') return next();
    const operation = bg.route.operation;
    const type = ctx.get('content-type');
    const body = await readRawBody(ctx, operation.bodyLimitBytes);
    if (ENCRYPTED_TYPE.test(type)) {
      if (operation.config.encrypt === 'off') {
        throw new BaygateError('BG_UNSUPPORTED_MEDIA_TYPE', { details: [{ message: `${operation.key} does not take encrypted bodies; send application/json` }] });
      }
      bg.input = parseJson(await openEncryptedBody(ctx, body, config), config.maxDepth, 'the decrypted body');
      return next();
    }
    const empty = body.length === 0 && type === '';
    if (!empty && !JSON_TYPE.test(type)) {
      throw new BaygateError('BG_UNSUPPORTED_MEDIA_TYPE', {
        details: [{ message: operation.config.encrypt === 'off' ? 'send Content-Type: application/json' : 'send Content-Type: application/json or application/vnd.baygate.enc+json' }],
      });
    }
    if (operation.config.encrypt === 'required') throw new BaygateError('BG_ENCRYPTION_REQUIRED');
    bg.input = empty ? {} : parseJson(body, config.maxDepth, 'the body');
    return next();
  };
}
