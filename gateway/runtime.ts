import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import type { Adapter } from '../adapters/adapter.js';
import { RestAdapter } from '../adapters/rest.js';
import { createMasker } from '../audit/mask.js';
import type { AuditStore } from '../audit/store.js';
import type { LoadedPolicy } from '../policies/load.js';
import { requestStates, type BaygateContext } from './context.js';
import type { Logger } from './logger.js';
import { createAuthorizationServer, publicJwks, type AuthorizationKeys, type createOAuthStorage } from './oauth.js';
import { buildOpenApi } from './openapi.js';
import { composeStages, oauthStages, pipelineStages } from './pipeline.js';
import type { NonceStore } from './state/nonce-store.js';
import type { RateCounterStore } from './state/rate-counters.js';
import { TokenVerifier } from './tokens.js';

/** What lives as long as the gateway process, across policy reloads. */
export interface GatewayServices {
  audit: AuditStore;
  rateCounters: RateCounterStore;
  nonces: NonceStore;
  oauthKeys: AuthorizationKeys;
  oauthStorage: ReturnType<typeof createOAuthStorage>;
  logger: Logger;
  publicUrl: string;
}

/**
 * Everything built from one policy: the authorization server, the adapters, the compiled
 * pipeline. A reload builds a new Runtime and swaps it in; requests already inside the old one
 * finish there, and the old one's connection pools close once they have.
 */
export class Runtime {
  readonly policy: LoadedPolicy;
  readonly stageNames: string[];
  private readonly provider: Provider;
  private readonly adapters: Map<string, Adapter>;
  private readonly run: (ctx: BaygateContext) => Promise<void>;
  private readonly runOAuth: (ctx: BaygateContext) => Promise<void>;
  private readonly openApiByScopes = new Map<string, unknown>();
  private inflight = 0;
  private retired = false;
  private closed?: Promise<void>;

  constructor(policy: LoadedPolicy, private readonly services: GatewayServices) {
    this.policy = policy;
    const doc = policy.document;
    this.adapters = new Map(Object.entries(doc.backends).map(([id, backend]) => [id, new RestAdapter(id, backend)]));
    const issuer = `${services.publicUrl}/oauth`;
    this.provider = createAuthorizationServer({ logger: services.logger, issuer, policy, keys: services.oauthKeys, storage: services.oauthStorage });
    this.followTokenRequests();
    const verifier = new TokenVerifier(publicJwks(services.oauthKeys), {
      issuer,
      audience: doc.oauth.audience,
      algorithms: doc.oauth.tokenAlgorithms,
    });
    const parts = {
      policy,
      masker: createMasker(doc.masking.fields),
      audit: services.audit,
      rateCounters: services.rateCounters,
      nonces: services.nonces,
      verifier,
      adapters: this.adapters,
      openApi: (scopes: ReadonlySet<string>) => this.openApi(scopes),
      logger: services.logger,
    };
    const stages = pipelineStages(parts);
    this.stageNames = stages.map(([name]) => name);
    this.run = composeStages(stages);
    this.runOAuth = composeStages(oauthStages({ ...parts, provider: this.provider }));
  }

  private openApi(scopes: ReadonlySet<string>): unknown {
    const key = [...scopes].sort().join(' ');
    let document = this.openApiByScopes.get(key);
    if (!document) {
      document = buildOpenApi(this.policy, this.services.publicUrl, scopes);
      this.openApiByScopes.set(key, document);
    }
    return document;
  }

  /** Tells the /oauth request's audit record which terminal asked and what OAuth error it got. */
  private followTokenRequests(): void {
    type ProviderCtx = { req: IncomingMessage; oidc?: { client?: { clientId: string } } };
    const note = (ctx: ProviderCtx, oauthError?: string) => {
      const bg = requestStates.get(ctx.req);
      if (bg) bg.delegated = { clientId: ctx.oidc?.client?.clientId, oauthError };
    };
    this.provider.on('grant.success', (ctx: ProviderCtx) => note(ctx));
    this.provider.on('grant.error', (ctx: ProviderCtx, error: { error?: string }) => note(ctx, error.error ?? 'error'));
  }

  /** Runs one request through the API pipeline, or through the authorization server's gate. */
  async handle(ctx: BaygateContext, oauth = false): Promise<void> {
    this.inflight++;
    try {
      await (oauth ? this.runOAuth(ctx) : this.run(ctx));
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) void this.close();
    }
  }

  /** Called when a newer runtime has taken over; closes once the last request has left. */
  retire(): void {
    this.retired = true;
    if (this.inflight === 0) void this.close();
  }

  close(): Promise<void> {
    this.closed ??= Promise.all([...this.adapters.values()].map((a) => a.close())).then(() => undefined);
    return this.closed;
  }
}
