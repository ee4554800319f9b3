import { BaygateError } from './errors.js';
import type { BaygateContext } from './context.js';

/**
 * The request body, read once up to `limit` bytes and kept on the request state: the signature
 * stage needs its digest before the body stage parses it. Over the limit is BG_BODY_TOO_LARGE,
 * whether declared by Content-Length or streamed.
 */
export function readRawBody(ctx: BaygateContext, limit: number): Promise<Buffer> {
  const bg = ctx.state.bg;
  bg.rawBody ??= readLimited(ctx, limit);
  return bg.rawBody;
}

function readLimited(ctx: BaygateContext, limit: number): Promise<Buffer> {
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

