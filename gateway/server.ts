import type http from 'node:http';
import path from 'node:path';
import { SqliteAuditStore } from '../audit/sqlite-store.js';
import { loadPolicy, PolicyError, type LoadedPolicy } from '../policies/load.js';
import { createApp } from './app.js';
import { createListener, listen, type BoundListener, type RequestHandler } from './listeners.js';
import { createLogger, type Logger } from './logger.js';
import { createOAuthStorage, loadAuthorizationKeys } from './oauth.js';
import { Runtime, type GatewayServices } from './runtime.js';
import { MemoryNonceStore } from './state/nonce-store.js';
import { MemoryRateCounterStore } from './state/rate-counters.js';

export interface GatewayOptions {
  policyFile: string;
  dataDir: string;
  /** Replaces the first listener's port (BAYGATE_PORT); 0 picks a free one. */
  port?: number;
  logger?: Logger;
}

export type ReloadOutcome = { ok: true } | { ok: false; error: string };

/**
 * A running gateway: its listeners, its long-lived stores, and the runtime built from the
 * current policy. `reload()` swaps in a new runtime only when the new policy is valid.
 */
export class Gateway {
  private runtime!: Runtime;
  private reloading?: Promise<ReloadOutcome>;

  private constructor(
    private readonly options: GatewayOptions,
    readonly services: GatewayServices,
    readonly listeners: BoundListener[],
  ) {}

  static async start(options: GatewayOptions): Promise<Gateway> {
    const logger = options.logger ?? createLogger();
    const policy = await loadPolicy(options.policyFile);
    const doc = policy.document;
    const audit = new SqliteAuditStore(path.resolve(options.dataDir, doc.audit.store.file));
    const oauthKeys = await loadAuthorizationKeys(options.dataDir, doc.oauth.tokenAlgorithms);

    // Requests that arrive before the first runtime exists wait for it; none is dropped.
    const waiting: Array<[http.IncomingMessage, http.ServerResponse]> = [];
    let handler: RequestHandler = (req, res) => waiting.push([req, res]);
    const listeners: BoundListener[] = [];
    try {
      for (const [i, config] of doc.gateway.listeners.entries()) {
        const effective = i === 0 && options.port !== undefined ? { ...config, port: options.port } : config;
        const server = createListener(effective, policy.listenerTls[i], doc.gateway.timeouts, (req, res) => handler(req, res));
        listeners.push({ config: effective, server, url: await listen(server, effective) });
      }
    } catch (error) {
      await Promise.all(listeners.map((l) => new Promise((resolve) => l.server.close(resolve))));
      await audit.close();
      throw error;
    }

    const services: GatewayServices = {
      audit,
      rateCounters: new MemoryRateCounterStore(),
      // Lives as long as the process, so a reload never forgets a nonce.
      nonces: new MemoryNonceStore(doc.gateway.stateStore.maxNonces, doc.gateway.stateStore.maxNoncesPerTerminal),
      oauthKeys,
      oauthStorage: createOAuthStorage(),
      logger,
      publicUrl: doc.gateway.publicUrl ?? listeners[0]!.url,
    };
    const gateway = new Gateway(options, services, listeners);
    gateway.runtime = new Runtime(policy, services);
    const callback = createApp(() => gateway.runtime, logger).callback();
    handler = callback as RequestHandler;
    for (const [req, res] of waiting.splice(0)) handler(req, res);
    logger.info('gateway started', { policy: policy.file, listeners: listeners.map((l) => l.url).join(' '), pipeline: gateway.runtime.stageNames.join(' → ') });
    return gateway;
  }

  get url(): string {
    return this.listeners[0]!.url;
  }

  get policy(): LoadedPolicy {
    return this.runtime.policy;
  }

  current(): Runtime {
    return this.runtime;
  }

  /**
   * Re-reads the policy file. A file that does not load is refused with its reason and the
   * running policy keeps serving; a good one takes over for every request that starts after.
   * Listener and audit store settings need a restart and are reported, not applied.
   */
  reload(): Promise<ReloadOutcome> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async doReload(): Promise<ReloadOutcome> {
    const logger = this.services.logger;
    let next: Runtime;
    try {
      const policy = await loadPolicy(this.options.policyFile);
      const before = this.runtime.policy.document;
      if (JSON.stringify(policy.document.gateway.listeners) !== JSON.stringify(before.gateway.listeners)
        || JSON.stringify(policy.document.audit.store) !== JSON.stringify(before.audit.store)
        || JSON.stringify(policy.document.oauth.tokenAlgorithms) !== JSON.stringify(before.oauth.tokenAlgorithms)) {
        logger.warn('listener, audit store and token algorithm changes take effect at the next restart');
      }
      next = new Runtime(policy, this.services);
    } catch (error) {
      const message = error instanceof PolicyError ? error.message : `the new policy could not be applied: ${(error as Error).message}`;
      logger.error('policy reload refused; the running policy stays in force', { reason: message });
      return { ok: false, error: message };
    }
    const previous = this.runtime;
    this.runtime = next;
    previous.retire();
    logger.info('policy reloaded', { policy: next.policy.file });
    return { ok: true };
  }

  async close(): Promise<void> {
    await Promise.all(this.listeners.map(({ server }) => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Connections still busy after the grace period are cut.
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
    })));
    await this.runtime.close();
    await this.services.rateCounters.close();
    await this.services.nonces.close();
    await this.services.audit.close();
  }
}
