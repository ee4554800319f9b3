import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ListenerTls } from '../policies/load.js';
import type { ListenerConfig, PolicyDocument } from '../policies/types.js';

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface BoundListener {
  config: ListenerConfig;
  server: http.Server;
  url: string;
}

/**
 * Creates a listener's server with timeouts that keep slow clients from pinning connections:
 * headers must arrive within headersMs, the whole request within requestMs, an idle keep-alive
 * connection is closed after keepAliveMs, and any silent socket after socketIdleMs.
 */
export function createListener(config: ListenerConfig, tls: ListenerTls | undefined, timeouts: PolicyDocument['gateway']['timeouts'], handler: RequestHandler): http.Server {
  // Node checks the headers and request timeouts only every connectionsCheckingInterval (30 s
  // by default), which would let a slow client hold a connection well past headersMs.
  const options: http.ServerOptions = { maxHeaderSize: 16 * 1024, connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs / 2) };
  const server = config.protocol === 'https'
    ? https.createServer({
      ...options,
      key: tls!.key,
      cert: tls!.cert,
      minVersion: 'TLSv1.2',
      ...(tls!.ca ? { ca: tls!.ca, requestCert: true, rejectUnauthorized: config.clientCertificates?.required ?? true } : {}),
    }, handler)
    : http.createServer(options, handler);
  server.requestTimeout = timeouts.requestMs;
  server.headersTimeout = Math.min(timeouts.headersMs, timeouts.requestMs);
  server.keepAliveTimeout = timeouts.keepAliveMs;
  server.timeout = timeouts.socketIdleMs;
  return server;
}

export function listen(server: http.Server, config: ListenerConfig): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      const { address, port } = server.address() as AddressInfo;
      const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
      resolve(`${config.protocol}://${host}:${port}`);
    });
  });
}
