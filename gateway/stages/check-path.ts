import { BaygateError } from '../errors.js';
import type { LoadedOperation } from '../../policies/load.js';
import type { Stage } from '../context.js';

// PROTOCOL.md §2.1: path forms refused before anything else, so that no two spellings of a path
// can reach different places or sign differently.
const MALFORMED_PATH = /\/\/|\/\.\.?(\/|$)|\\|;|%2e|%2f|%5c/i;
const SEGMENT = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PREFIX = '/api/v1/';
/** PROTOCOL.md §3: the gateway's public keys, for anyone who asks. */
export const KEYS_PATH = '/.well-known/baygate/keys';

/** Splits the raw query on '&' and refuses a name that appears twice (PROTOCOL.md §2.1). */
function duplicateQueryName(rawQuery: string): string | undefined {
  if (rawQuery === '') return undefined;
  const names = new Set<string>();
  for (const pair of rawQuery.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (names.has(name)) return name;
    names.add(name);
  }
  return undefined;
}

/** Path and method: malformed paths, duplicate query names, then the route itself. */
export function checkPath(config: { operations: ReadonlyMap<string, LoadedOperation> }): Stage {
  return async function checkPath(ctx, next) {
    const path = ctx.state.bg.path;
    const raw = ctx.req.url ?? '/';
    const q = raw.indexOf('?');
    if (MALFORMED_PATH.test(path)) {
      throw new BaygateError('BG_BAD_REQUEST', { details: [{ message: 'the path contains a forbidden sequence (//, /./, /../, \\, ; or an encoded . / \\)' }] });
    }
    const duplicate = q === -1 ? undefined : duplicateQueryName(raw.slice(q + 1));
    if (duplicate !== undefined) {
      throw new BaygateError('BG_BAD_REQUEST', { details: [{ message: `query parameter "${duplicate}" appears more than once` }] });
    }
    if (path === KEYS_PATH && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.state.bg.route = { kind: 'keys' };
      return next();
    }
    if (path === '/api/v1/openapi.json' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.state.bg.route = { kind: 'openapi' };
      return next();
    }
    const segments = path.startsWith(PREFIX) ? path.slice(PREFIX.length).split('/') : [];
    const [service, name] = segments;
    const operation = segments.length === 2 && SEGMENT.test(service!) && SEGMENT.test(name!)
      ? config.operations.get(`${service}/${name}`)
      : undefined;
    if (!operation) throw new BaygateError('BG_ROUTE_NOT_FOUND');
    if (operation.config.method !== ctx.method) {
      throw new BaygateError('BG_ROUTE_NOT_FOUND', { details: [{ message: `${service}/${name} is called with ${operation.config.method}` }] });
    }
    ctx.state.bg.route = { kind: 'operation', operation };
    return next();
  };
}
