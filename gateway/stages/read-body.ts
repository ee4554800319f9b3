import { BaygateError } from '../errors.js';
import { parseStrictJson, StrictJsonError } from '../strict-json.js';
import type { Stage } from '../context.js';

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const ENCRYPTED_TYPE = /^application\/vnd\.baygate\.enc\+json\s*(;.*)?$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readLimited(ctx: Parameters<Stage>[0], limit: number): Promise<Buffer> {
  const declared = ctx.request.length;
  const tooLarge = () => new BaygateError('BG_BODY_TOO_LARGE', { details: [{ message: `the limit for this operation is ${limit} bytes` }] });
  if (declared !== undefined && declared > limit) return Promise.reject(tooLarge());
  const req = ctx.req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        // Stop reading; the connection is closed after the answer so the rest is never parsed.
        ctx.set('Connection', 'close');
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new BaygateError('BG_BAD_REQUEST', { reason: `the body could not be read: ${error.message}` }));
    };
    const onAborted = () => onError(new Error('the client went away'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Content type, body limit and strict JSON parsing. Decryption (PROTOCOL.md §4) slots in here. */
export function readBody(config: { maxDepth: number }): Stage {
  return async function readBody(ctx, next) {
    const bg = ctx.state.bg;
    if (bg.route?.kind !== 'operation') return next();
    const operation = bg.route.operation;
    const type = ctx.get('content-type');
    const body = await readLimited(ctx, operation.bodyLimitBytes);
    if (ENCRYPTED_TYPE.test(type)) {
      // Encrypted envelopes are the next stage of the protocol work; until then they are refused.
      throw new BaygateError('BG_UNSUPPORTED_MEDIA_TYPE', { details: [{ message: 'encrypted bodies are not accepted by this gateway yet; send application/json' }] });
    }
    const empty = body.length === 0 && type === '';
    if (!empty && !JSON_TYPE.test(type)) {
      throw new BaygateError('BG_UNSUPPORTED_MEDIA_TYPE', { details: [{ message: 'send Content-Type: application/json' }] });
    }
    if (operation.config.encrypt === 'required') throw new BaygateError('BG_ENCRYPTION_REQUIRED');
    if (empty) {
      bg.input = {};
    } else {
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        throw new BaygateError('BG_BAD_REQUEST', { details: [{ message: 'the body is not valid UTF-8' }] });
      }
      try {
        bg.input = parseStrictJson(text, config.maxDepth);
      } catch (error) {
        if (!(error instanceof StrictJsonError)) throw error;
        throw new BaygateError('BG_BAD_REQUEST', { details: [{ path: error.pointer, message: `${error.message} (at byte ${error.position})` }] });
      }
    }
    return next();
  };
}
