#!/usr/bin/env node
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BaygateClient, BaygateRequestError } from '../client/index.js';
import { generateSm2KeyPair } from '../crypto/sm2.js';
import { startDemoBackends, type DemoBackends } from '../examples/demo/backends.js';
import { DEMO_DIR } from '../examples/demo/policy-object.js';
import { createLogger, type LogLevel } from '../gateway/logger.js';
import { loadPolicy, PolicyError, policySchema } from '../policies/load.js';
import { tailAudit } from './audit-tail.js';

// The command line is the door: environment variables and flags are read here and nowhere else.

const DEMO_POLICY = path.join(DEMO_DIR, 'policy.yaml');
const DEMO_TERMINAL = 'kiosk-demo-001';
const DEMO_SECRET_FILE = path.join(DEMO_DIR, `${DEMO_TERMINAL}.secret`);
const DEMO_KEY_FILE = path.join(DEMO_DIR, `${DEMO_TERMINAL}.sm2.key.pem`);
const DEFAULT_URL = `http://127.0.0.1:${process.env.BAYGATE_PORT ?? 8080}`;

const USAGE = `baygate: the Bay Area kiosk security gateway

  baygate start [--config FILE] [--port N] [--data-dir DIR] [--log-level L] [--demo-backends]
      Run the gateway. With no --config: the embedded demo (examples/demo/) and its demo
      department backends. SIGHUP reloads the policy file. Env: BAYGATE_PORT, BAYGATE_DATA_DIR.
  baygate policy check FILE       Validate a policy file; prints every problem with its path.
  baygate policy schema           Print the policy file's JSON Schema.
  baygate token [--url U] [--client-id ID] [--secret-file F] [--scope "a b"]
      Get an access token (default: the demo terminal at ${DEFAULT_URL}).
  baygate call SERVICE/OPERATION [JSON | @file.json] [--method M] [--encrypt] [--url U]
               [--client-id ID --secret-file F --key KEY.pem [--key-id K] [--dist-id D]]
      Call an operation, signed with the terminal's SM2 key (and its body SM4-encrypted with
      --encrypt), check the gateway's response signature, and print the answer envelope.
  baygate keygen NAME [--dir D] [--format pkcs8|sec1]
      Write an SM2 key pair: NAME.sm2.key.pem (mode 0600) and NAME.sm2.pub.pem.
  baygate audit tail [-n N] [--follow] [--json] [--data-dir DIR] [--config FILE]
      Show the most recent audit records.
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`baygate: ${message}\n`);
  process.exit(code);
}

function dataDir(flag: string | undefined): string {
  return path.resolve(flag ?? process.env.BAYGATE_DATA_DIR ?? 'data');
}

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'demo-backends': { type: 'boolean', default: false },
    },
  });
  const policyFile = path.resolve(values.config ?? DEMO_POLICY);
  const demo = !values.config || values['demo-backends'];
  const portText = values.port ?? process.env.BAYGATE_PORT;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) fail(`--port must be a port number, not "${portText}"`);
  const logger = createLogger({ level: values['log-level'] as LogLevel });

  let demoBackends: DemoBackends | undefined;
  if (demo) {
    const policy = await loadPolicy(policyFile);
    const portOf = (id: string) => Number(new URL((policy.document.backends[id] as { baseUrl: string }).baseUrl).port);
    demoBackends = await startDemoBackends({ socialSecurity: portOf('social-security-demo'), housingFund: portOf('housing-fund-demo') });
  }
  // Imported here so that the commands that do not run a gateway load no authorization server.
  const { Gateway } = await import('../gateway/server.js');
  const gateway = await Gateway.start({ policyFile, dataDir: dataDir(values['data-dir']), port, logger });

  process.on('SIGHUP', () => {
    void gateway.reload();
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping');
    await gateway.close();
    await demoBackends?.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const url = gateway.url;
  const lines = [
    `Baygate is listening on ${gateway.listeners.map((l) => l.url).join(', ')}`,
    `  policy:   ${path.relative(process.cwd(), policyFile) || policyFile}`,
    `  pipeline: ${gateway.current().stageNames.join(' → ')}`,
  ];
  if (demo) {
    lines.push(
      '',
      `Demo terminal ${DEMO_TERMINAL}; its client secret is in ${path.relative(process.cwd(), DEMO_SECRET_FILE)}.`,
      'Try it:',
      `  npx baygate call social-security/insured-info '{"idNumber":"44030419900307123X","name":"张三"}' --url ${url}`,
      `  npx baygate call housing-fund/account-detail '{"idNumber":"440106198511122344","months":3}' --url ${url}`,
      '  npx baygate audit tail',
      'or by hand with OpenSSL and curl (every call is SM2-signed): docs/protocol-walkthrough.md',
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

interface ClientFlags {
  url?: string;
  'client-id'?: string;
  'secret-file'?: string;
  scope?: string;
  key?: string;
  'key-id'?: string;
  'dist-id'?: string;
  encrypt?: boolean;
}

function readOrFail(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    fail(`cannot read ${what} from ${file}: ${(error as NodeJS.ErrnoException).code}`);
  }
}

function clientFrom(values: ClientFlags, needKey = true): BaygateClient {
  const clientId = values['client-id'] ?? DEMO_TERMINAL;
  const demo = clientId === DEMO_TERMINAL;
  const secretFile = values['secret-file'] ?? (demo ? DEMO_SECRET_FILE : undefined);
  const keyFile = values.key ?? (demo ? DEMO_KEY_FILE : undefined);
  if (!secretFile) fail('--secret-file is needed for a terminal other than the demo one');
  if (!keyFile && needKey) fail('--key (the terminal\'s SM2 private key) is needed for a terminal other than the demo one');
  const clientSecret = readOrFail(secretFile, 'the client secret').trim();
  const signingKey = keyFile && needKey ? readOrFail(keyFile, 'the signing key') : undefined;
  try {
    return new BaygateClient({
      baseUrl: values.url ?? DEFAULT_URL,
      clientId,
      clientSecret,
      signingKey,
      signingKeyId: values['key-id'],
      distinguishingId: values['dist-id'],
      encrypt: values.encrypt,
      scope: values.scope?.split(/\s+/).filter(Boolean),
    });
  } catch (error) {
    fail(`cannot use the signing key in ${keyFile}: ${(error as Error).message}`);
  }
}

const CLIENT_OPTIONS = {
  url: { type: 'string' },
  'client-id': { type: 'string' },
  'secret-file': { type: 'string' },
  scope: { type: 'string' },
  key: { type: 'string' },
  'key-id': { type: 'string' },
  'dist-id': { type: 'string' },
  encrypt: { type: 'boolean' },
} as const;

async function token(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: CLIENT_OPTIONS });
  process.stdout.write((await clientFrom(values, false).token()) + '\n');
}

function keygen(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { dir: { type: 'string', default: '.' }, format: { type: 'string', default: 'pkcs8' } },
  });
  const [name] = positionals;
  if (!name || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) fail('usage: baygate keygen NAME [--dir D] [--format pkcs8|sec1]  (NAME: letters, digits, . _ -)');
  if (values.format !== 'pkcs8' && values.format !== 'sec1') fail(`--format is pkcs8 or sec1, not "${values.format}"`);
  const key = generateSm2KeyPair();
  const privateFile = path.join(values.dir!, `${name}.sm2.key.pem`);
  const publicFile = path.join(values.dir!, `${name}.sm2.pub.pem`);
  try {
    mkdirSync(values.dir!, { recursive: true });
    // 'wx': never overwrite a key that may already be registered somewhere.
    writeFileSync(privateFile, key.toPem(values.format), { flag: 'wx', mode: 0o600 });
    writeFileSync(publicFile, key.publicKey.toPem(), { flag: 'wx', mode: 0o644 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    fail(e.code === 'EEXIST' ? `${e.path} exists; keygen never overwrites a key` : `cannot write the key pair: ${e.message}`);
  }
  process.stdout.write([
    `wrote ${privateFile} (private, mode 0600) and ${publicFile}`,
    `public key (hex, as sm-crypto writes it): ${key.publicKey.toHex()}`,
    'register it for a terminal in the policy:',
    `  signingKeys:\n    - { id: ${name}, publicKeyFile: ${path.basename(publicFile)} }`,
    'or as one of the gateway\'s own keys:',
    `  gateway:\n    keys:\n      - { id: ${name}, use: sig, privateKeyFile: ${path.basename(privateFile)} }`,
    '',
  ].join('\n'));
}

async function call(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...CLIENT_OPTIONS, method: { type: 'string', default: 'POST' } } });
  const [target, bodyArg] = positionals;
  const match = /^([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9-]*)$/.exec(target ?? '');
  if (!match) fail('call needs SERVICE/OPERATION, e.g. social-security/insured-info');
  let body: unknown = {};
  if (bodyArg !== undefined) {
    const text = bodyArg.startsWith('@') ? readFileSync(bodyArg.slice(1), 'utf8') : bodyArg;
    try {
      body = JSON.parse(text);
    } catch (error) {
      fail(`the request body is not JSON: ${(error as Error).message}`);
    }
  }
  const { status, envelope } = await clientFrom(values).request(match[1]!, match[2]!, body, { method: values.method!.toUpperCase() });
  process.stdout.write(`HTTP ${status}\n${JSON.stringify(envelope, null, 2)}\n`);
  if (envelope.code !== 'OK') process.exitCode = 2;
}

async function policy(argv: string[]): Promise<void> {
  const [sub, file] = argv;
  if (sub === 'schema') {
    process.stdout.write(JSON.stringify(policySchema, null, 2) + '\n');
  } else if (sub === 'check' && file) {
    const loaded = await loadPolicy(file);
    process.stdout.write(`policy ${file} is valid: ${loaded.terminals.size} terminals, ${loaded.operations.size} operations, ${Object.keys(loaded.document.backends).length} backends\n`);
  } else {
    fail('usage: baygate policy check FILE | baygate policy schema');
  }
}

async function audit(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'tail') fail('usage: baygate audit tail [-n N] [--follow] [--json]');
  const { values } = parseArgs({
    args: rest,
    options: {
      n: { type: 'string', short: 'n', default: '20' },
      follow: { type: 'boolean', short: 'f', default: false },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      config: { type: 'string' },
    },
  });
  const count = Number(values.n);
  if (!Number.isInteger(count) || count < 1) fail('-n must be a positive whole number');
  const file = values.config ? (await loadPolicy(values.config)).document.audit.store.file : 'audit.sqlite';
  await tailAudit({ file: path.resolve(dataDir(values['data-dir']), file), count, follow: values.follow!, json: values.json!, write: (s) => process.stdout.write(s) });
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'start': return start(rest);
    case 'token': return token(rest);
    case 'call': return call(rest);
    case 'keygen': return keygen(rest);
    case 'policy': return policy(rest);
    case 'audit': return audit(rest);
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`, 64);
  }
}

main().catch((error: unknown) => {
  if (error instanceof PolicyError) fail(error.message);
  if (error instanceof BaygateRequestError) fail(`${error.message}${error.requestId ? ` (request ${error.requestId})` : ''}`, 2);
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') fail(`the port is taken: ${(error as Error).message}. Set BAYGATE_PORT or --port.`);
  if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail((error as Error).message, 64);
  fail(error instanceof Error ? error.message : String(error));
});
