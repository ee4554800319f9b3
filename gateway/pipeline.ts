import type Provider from 'oidc-provider';
import type { Adapter } from '../adapters/adapter.js';
import type { Masker } from '../audit/mask.js';
import type { AuditStore } from '../audit/store.js';
import type { LoadedPolicy } from '../policies/load.js';
import type { BaygateContext, Stage } from './context.js';
import type { Logger } from './logger.js';
import type { NonceStore } from './state/nonce-store.js';
import type { RateCounterStore } from './state/rate-counters.js';
import type { TokenVerifier } from './tokens.js';
import { authenticateToken } from './stages/authenticate-token.js';
import { checkIpList } from './stages/check-ip-list.js';
import { checkPath } from './stages/check-path.js';
import { checkScope } from './stages/check-scope.js';
import { checkSuspension } from './stages/check-suspension.js';
import { checkTerminal } from './stages/check-terminal.js';
import { delegateToAuthorizationServer } from './stages/delegate-to-authorization-server.js';
import { describeApi } from './stages/describe-api.js';
import { enforceRateLimits } from './stages/enforce-rate-limits.js';
import { invokeBackend } from './stages/invoke-backend.js';
import { limitPerAddress } from './stages/limit-per-address.js';
import { publishKeys } from './stages/publish-keys.js';
import { readBody } from './stages/read-body.js';
import { respond } from './stages/respond.js';
import { validateBody } from './stages/validate-body.js';
import { verifySignature } from './stages/verify-signature.js';

/** What the stages are built from: one compiled policy and the gateway's long-lived services. */
export interface PipelineParts {
  policy: LoadedPolicy;
  masker: Masker;
  audit: AuditStore;
  rateCounters: RateCounterStore;
  nonces: NonceStore;
  verifier: TokenVerifier;
  adapters: ReadonlyMap<string, Adapter>;
  openApi: (scopes: ReadonlySet<string>) => unknown;
  logger: Logger;
}

export const MAX_JSON_DEPTH = 64;

/**
 * The request pipeline, in PROTOCOL.md's check order; the first refusal answers. `respond` is
 * outermost: it makes the envelope and writes the audit record for every outcome.
 */
export function pipelineStages(p: PipelineParts): Array<[name: string, stage: Stage]> {
  const doc = p.policy.document;
  const [respondEntry, ...addressChecks] = gateStages(p);
  return [
    respondEntry,
    ['check-path', checkPath({ operations: p.policy.operations })],
    ...addressChecks,
    ['publish-keys', publishKeys({ gatewayKeys: p.policy.gatewayKeys })],
    ['authenticate-token', authenticateToken({ verifier: p.verifier })],
    ['check-terminal', checkTerminal({ terminals: p.policy.terminals })],
    ['verify-signature', verifySignature({ windowSeconds: doc.gateway.signatureWindowSeconds, nonces: p.nonces, logger: p.logger })],
    ['enforce-rate-limits', enforceRateLimits({ store: p.rateCounters, perTerminal: doc.gateway.rateLimits.perTerminal, logger: p.logger })],
    ['describe-api', describeApi({ document: p.openApi })],
    ['check-scope', checkScope()],
    ['check-suspension', checkSuspension({ services: doc.services })],
    ['read-body', readBody({ maxDepth: MAX_JSON_DEPTH, gatewayKeys: p.policy.gatewayKeys })],
    ['validate-body', validateBody()],
    // Cross-border transfer control (filings) goes here.
    ['invoke-backend', invokeBackend({ adapters: p.adapters, audit: p.audit })],
  ];
}

/** What both pipelines start with: the envelope and audit, then the caller's address checks. */
function gateStages(p: PipelineParts): Array<[name: string, stage: Stage]> {
  const doc = p.policy.document;
  return [
    ['respond', respond({ audit: p.audit, gatewayKeys: p.policy.gatewayKeys, masker: p.masker, summaryMaxChars: doc.audit.summaryMaxChars, backends: doc.backends, logger: p.logger })],
    ['check-ip-list', checkIpList({ global: p.policy.ipList })],
    ['limit-per-address', limitPerAddress({ store: p.rateCounters, limit: doc.gateway.rateLimits.perAddress, logger: p.logger })],
  ];
}

/** The authorization server's gate: the same address checks, then node-oidc-provider. */
export function oauthStages(p: PipelineParts & { provider: Provider }): Array<[name: string, stage: Stage]> {
  return [...gateStages(p), ['delegate-to-authorization-server', delegateToAuthorizationServer({ provider: p.provider })]];
}

/** Runs the stages as one middleware, each calling the next (koa-compose, less its re-entry guard). */
export function composeStages(stages: ReadonlyArray<readonly [string, Stage]>): (ctx: BaygateContext) => Promise<void> {
  const fns = stages.map(([, stage]) => stage);
  return function run(ctx) {
    const dispatch = (i: number): Promise<void> => (i < fns.length ? fns[i]!(ctx, () => dispatch(i + 1)) : Promise.resolve());
    return dispatch(0);
  };
}
