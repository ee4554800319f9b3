import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startHarness, type Harness } from '../helpers/harness.js';

const openssl = (args: string[], cwd: string) => promisify(execFile)('openssl', args, { cwd });

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with the OpenSSL CLI. */
async function makeCertificates(dir: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Baygate Test CA'], dir);
  await writeFile(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'kiosk-demo-001']]) {
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...(name === 'server' ? ['-extfile', 'server.ext'] : [])], dir);
  }
  await writeFile(path.join(dir, 'p12.pass'), 'changeit-7Q\n');
  await openssl(['pkcs12', '-export', '-inkey', 'server.key', '-in', 'server.crt', '-certfile', 'ca.crt', '-out', 'server.p12', '-passout', 'pass:changeit-7Q'], dir);
  // The RC2/3DES form older tools still write, which OpenSSL 3 reads only with its legacy provider.
  await openssl(['pkcs12', '-export', '-legacy', '-inkey', 'server.key', '-in', 'server.crt', '-out', 'server-legacy.p12', '-passout', 'pass:changeit-7Q'], dir);
}

function httpsGet(url: string, options: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ...options, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('listeners', function () {
  this.timeout(30_000);
  let certs: string;
  let h: Harness;
  let ca: Buffer;

  before(async function () {
    certs = await mkdtemp(path.join(os.tmpdir(), 'baygate-certs-'));
    await makeCertificates(certs);
    ca = await readFile(path.join(certs, 'ca.crt'));
    h = await startHarness((policy) => {
      const file = (name: string) => path.join(certs, name);
      policy.gateway.timeouts = { headersMs: 1000, requestMs: 2000, keepAliveMs: 1000 };
      policy.gateway.listeners = [
        { protocol: 'http', host: '127.0.0.1', port: 0 },
        { protocol: 'https', host: '127.0.0.1', port: 0, tls: { certFile: file('server.crt'), keyFile: file('server.key') } },
        { protocol: 'https', host: '127.0.0.1', port: 0, tls: { pfxFile: file('server.p12'), passphraseFile: file('p12.pass') } },
        { protocol: 'https', host: '127.0.0.1', port: 0, tls: { pfxFile: file('server-legacy.p12'), passphraseFile: file('p12.pass') } },
        { protocol: 'https', host: '127.0.0.1', port: 0, tls: { certFile: file('server.crt'), keyFile: file('server.key') }, clientCertificates: { caFile: file('ca.crt') } },
      ];
    });
  });
  after(async function () {
    await h?.close();
    await rm(certs, { recursive: true, force: true });
  });

  it('serves HTTPS from a PEM certificate and key', async function () {
    const response = await httpsGet(`${h.gateway.listeners[1]!.url}/healthz`, { ca });
    assert.equal(response.status, 200);
  });

  it('serves HTTPS from PKCS#12 bundles, modern and legacy, opened with node-forge', async function () {
    for (const listener of [h.gateway.listeners[2]!, h.gateway.listeners[3]!]) {
      const response = await httpsGet(`${listener.url}/healthz`, { ca });
      assert.equal(response.status, 200);
    }
  });

  it('refuses a terminal without a client certificate where the listener requires one, and serves one with', async function () {
    const url = `${h.gateway.listeners[4]!.url}/healthz`;
    await assert.rejects(httpsGet(url, { ca }), (error: NodeJS.ErrnoException) => /certificate|ECONNRESET|socket hang up/i.test(`${error.code} ${error.message}`));
    const response = await httpsGet(url, { ca, cert: await readFile(path.join(certs, 'client.crt')), key: await readFile(path.join(certs, 'client.key')) });
    assert.equal(response.status, 200);
  });

  it('closes a connection whose headers never finish (slow client)', async function () {
    const { port } = new URL(h.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST /api/v1/social-security/insured-info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    // Mocha's timeout bounds the wait; the server's headers timeout is 1 s.
    await new Promise((resolve) => socket.once('close', resolve));
    assert.match(answer, /^HTTP\/1\.1 408/);
  });

  it('refuses a PKCS#12 bundle opened with the wrong passphrase, naming the setting', async function () {
    const { parsePolicy } = await import('../../policies/load.js');
    await writeFile(path.join(certs, 'wrong.pass'), 'not-it\n');
    const policy = { ...h.policy, gateway: { listeners: [{ protocol: 'https', port: 0, tls: { pfxFile: path.join(certs, 'server.p12'), passphraseFile: path.join(certs, 'wrong.pass') } }] } };
    await assert.rejects(parsePolicy(JSON.stringify(policy), path.join(certs, 'p.yaml')), /gateway\.listeners\[0\]\.tls\.pfxFile: cannot open the PKCS#12 bundle/);
  });
});
