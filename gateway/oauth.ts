import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors as oidcErrors, type Configuration } from 'oidc-provider';
import type { LoadedPolicy } from '../policies/load.js';
import type { Logger } from './logger.js';

// The built-in authorization server: node-oidc-provider with the client credentials grant only.
// Terminals are its clients; access tokens are JWTs whose audience is the gateway and whose
// scope lists the services the terminal may call (PROTOCOL.md §1).

export interface AuthorizationKeys {
  /** Private JWKs that sign access tokens, newest first. */
  signing: JWK[];
  cookieKeys: string[];
}

const KEYS_FILE = 'oauth-keys.json';

/**
 * The token signing keys live in the data directory (mode 0600) so that tokens survive a
 * restart. They are made on first start, one per allowed algorithm.
 */
export async function loadAuthorizationKeys(dataDir: string, algorithms: readonly string[]): Promise<AuthorizationKeys> {
  const file = path.join(dataDir, KEYS_FILE);
  let keys: AuthorizationKeys | undefined;
  try {
    keys = JSON.parse(await readFile(file, 'utf8')) as AuthorizationKeys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const have = new Set(keys?.signing.map((k) => k.alg));
  const missing = algorithms.filter((alg) => !have.has(alg));
  if (keys && missing.length === 0) return keys;
  const signing = [...(keys?.signing ?? [])];
  for (const alg of missing) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    const jwk = await exportJWK(privateKey);
    signing.push({ ...jwk, alg, use: 'sig', kid: await calculateJwkThumbprint(jwk) });
  }
  const updated: AuthorizationKeys = { signing, cookieKeys: keys?.cookieKeys ?? [randomBytes(32).toString('base64url')] };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(`${file}.tmp`, JSON.stringify(updated, null, 2), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return updated;
}

export function publicJwks(keys: AuthorizationKeys): { keys: JWK[] } {
  return {
    keys: keys.signing.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub),
  };
}

/** oidc-provider's storage for its short-lived artefacts (client assertion jti replay). */
class MemoryStorage {
  private readonly entries = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();

  get(key: string): Record<string, unknown> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  set(key: string, payload: Record<string, unknown>, expiresIn: number): void {
    if (this.entries.size > 100_000) {
      const now = Date.now();
      for (const [k, v] of this.entries) if (v.expiresAt <= now) this.entries.delete(k);
    }
    this.entries.set(key, { payload, expiresAt: Date.now() + expiresIn * 1000 });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** Storage that outlives a policy reload, so a replayed client assertion stays refused. */
export function createOAuthStorage(): MemoryStorage {
  return new MemoryStorage();
}

function adapterFor(storage: MemoryStorage) {
  return class {
    constructor(private readonly model: string) {}
    async upsert(id: string, payload: Record<string, unknown>, expiresIn: number) {
      storage.set(`${this.model}:${id}`, payload, expiresIn);
    }
    async find(id: string) {
      return storage.get(`${this.model}:${id}`);
    }
    async findByUserCode() {
      return undefined;
    }
    async findByUid() {
      return undefined;
    }
    async consume(id: string) {
      const payload = storage.get(`${this.model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      storage.delete(`${this.model}:${id}`);
    }
    async revokeByGrantId() {}
  };
}

export interface AuthorizationServerOptions {
  logger: Logger;
  issuer: string;
  policy: LoadedPolicy;
  keys: AuthorizationKeys;
  storage: MemoryStorage;
}

export function createAuthorizationServer({ logger, issuer, policy, keys, storage }: AuthorizationServerOptions): Provider {
  const { audience, accessTokenTtlSeconds, tokenAlgorithms } = policy.document.oauth;
  const signingAlg = tokenAlgorithms[0]!;
  const clients = [...policy.terminals.values()]
    // A locked terminal gets no token at all (and the gateway refuses the ones it still has).
    .filter((t) => t.config.status === 'active')
    .map((t) => ({
      client_id: t.config.id,
      ...(t.clientSecret ? { client_secret: t.clientSecret } : {}),
      ...(t.jwks ? { jwks: t.jwks } : {}),
      token_endpoint_auth_method: t.config.auth.method,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: t.config.services.join(' '),
    }));

  const configuration: Configuration = {
    clients: clients as Configuration['clients'],
    jwks: { keys: keys.signing as never },
    cookies: { keys: keys.cookieKeys },
    adapter: adapterFor(storage) as never,
    clientAuthMethods: ['client_secret_basic', 'private_key_jwt'],
    // No ID tokens are issued, but client metadata defaults must name a key the server has.
    clientDefaults: { id_token_signed_response_alg: signingAlg, grant_types: ['client_credentials'], response_types: [] },
    enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] },
    responseTypes: ['none'],
    // Services are the scopes; asking for one the terminal may not call is invalid_scope.
    scopes: ['openid', ...Object.keys(policy.document.services)],
    ttl: { ClientCredentials: accessTokenTtlSeconds },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // Standard client libraries send neither `resource` nor, often, `scope`: the token is
        // then for the gateway and carries every service the terminal may call.
        defaultResource(ctx, client) {
          if (ctx.oidc.params?.grant_type === 'client_credentials' && !ctx.oidc.params.scope && client?.scope) {
            ctx.oidc.params.scope = client.scope;
          }
          return audience;
        },
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resourceIndicator, client) {
          if (resourceIndicator !== audience) throw new oidcErrors.InvalidTarget();
          return {
            scope: client.scope ?? '',
            audience,
            accessTokenTTL: accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: signingAlg } },
          };
        },
      },
    },
  };
  const provider = new Provider(issuer, configuration);
  // The client gets OAuth's own opaque server_error; the fault is logged here.
  provider.on('server_error', (_ctx: unknown, error: Error) => logger.error('authorization server fault', { error: `${error.name}: ${error.message}` }));
  return provider;
}
