import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import forge from 'node-forge';
import { parseDocument } from 'yaml';
import { importSm2PrivateKey, importSm2PublicKey } from '../crypto/sm2.js';
import policySchema from './policy.schema.json' with { type: 'json' };
import { GatewayKeySet, type GatewayKey, type TerminalKey } from './gateway-keys.js';
import { compileRanges, rangeProblem, type AddressRanges } from './ip-ranges.js';
import { createOperationAjv, type ValidateFunction } from './json-schemas.js';
import type { IpList, ListenerConfig, OperationConfig, PolicyDocument, TerminalConfig } from './types.js';

/** One thing wrong with a policy: where (dotted path) and what. */
export interface PolicyProblem {
  path: string;
  message: string;
}

export class PolicyError extends Error {
  readonly file: string;
  readonly problems: PolicyProblem[];

  constructor(file: string, problems: PolicyProblem[]) {
    const lines = problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`);
    super(`policy ${file} is not valid:\n${lines.join('\n')}`);
    this.name = 'PolicyError';
    this.file = file;
    this.problems = problems;
  }
}

export interface CompiledIpList {
  allow?: AddressRanges;
  deny: AddressRanges;
}

export interface LoadedOperation {
  readonly key: string;
  readonly service: string;
  readonly name: string;
  readonly config: OperationConfig;
  readonly requestSchema: Record<string, unknown>;
  readonly responseSchema?: Record<string, unknown>;
  readonly validateRequest: ValidateFunction;
  readonly validateResponse?: ValidateFunction;
  readonly ipList: CompiledIpList;
  readonly bodyLimitBytes: number;
}

export interface LoadedTerminal {
  readonly config: TerminalConfig;
  readonly clientSecret?: string;
  readonly jwks?: { keys: Record<string, unknown>[] };
  readonly sourceRanges?: AddressRanges;
  /** Request-signing keys by id, in policy order. */
  readonly signingKeys: ReadonlyMap<string, TerminalKey>;
}

export interface ListenerTls {
  key: string;
  cert: string;
  ca?: string;
}

/** A validated, frozen policy with everything derived from it compiled once. */
export interface LoadedPolicy {
  readonly file: string;
  readonly document: PolicyDocument;
  readonly operations: ReadonlyMap<string, LoadedOperation>;
  readonly terminals: ReadonlyMap<string, LoadedTerminal>;
  readonly ipList: CompiledIpList;
  readonly trustedProxies: AddressRanges;
  readonly listenerTls: ReadonlyArray<ListenerTls | undefined>;
  readonly gatewayKeys: GatewayKeySet;
}

const MIN_CLIENT_SECRET_LENGTH = 32;

const validatePolicyShape = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(policySchema);

export { policySchema };

/** `/services/a/operations/b` → `services.a.operations.b`; array indexes as `[0]`. */
export function dottedPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^[0-9]+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

function shapeProblems(errors: ErrorObject[]): PolicyProblem[] {
  const seen = new Set<string>();
  const problems: PolicyProblem[] = [];
  for (const error of errors) {
    // if/then wrappers repeat the real error; keep the specific ones.
    if (error.keyword === 'if' || error.keyword === 'anyOf') continue;
    let where = dottedPath(error.instancePath);
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      where = [where, String((error.params as { additionalProperty: string }).additionalProperty)].filter(Boolean).join('.');
      message = 'is not a known setting';
    } else if (error.keyword === 'enum') {
      message = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const key = `${where}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push({ path: where, message });
    }
  }
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Reads and checks a policy file; throws PolicyError naming every problem found. */
export async function loadPolicy(file: string): Promise<LoadedPolicy> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    throw new PolicyError(absolute, [{ path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parsePolicy(text, absolute);
}

/** Checks policy text as if it were the file at `file` (relative paths resolve from its folder). */
export async function parsePolicy(text: string, file: string): Promise<LoadedPolicy> {
  const yaml = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (yaml.errors.length > 0) {
    throw new PolicyError(file, yaml.errors.map((e) => ({
      path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
      message: e.message.split('\n')[0]!.replace(/ at line [0-9]+, column [0-9]+:?$/, ''),
    })));
  }
  // A bounded alias count stops a "billion laughs" policy from expanding.
  const document: unknown = yaml.toJS({ maxAliasCount: 50 });
  if (!validatePolicyShape(document)) {
    throw new PolicyError(file, shapeProblems(validatePolicyShape.errors ?? []));
  }
  return new PolicyChecker(file, document as unknown as PolicyDocument).check();
}

/** The checks a JSON Schema cannot express: ranges parse, references resolve, files load. */
class PolicyChecker {
  private readonly problems: PolicyProblem[] = [];
  private readonly dir: string;
  private readonly schemaFiles = new Map<string, Record<string, unknown>>();
  private readonly ajv = createOperationAjv();
  private readonly compiled = new Map<Record<string, unknown>, ValidateFunction>();

  constructor(private readonly file: string, private readonly doc: PolicyDocument) {
    this.dir = path.dirname(file);
  }

  private problem(where: string, message: string): void {
    this.problems.push({ path: where, message });
  }

  private ranges(where: string, ranges: readonly string[] | undefined): AddressRanges | undefined {
    if (!ranges) return undefined;
    let ok = true;
    ranges.forEach((range, i) => {
      const reason = rangeProblem(range);
      if (reason) {
        ok = false;
        this.problem(`${where}[${i}]`, reason);
      }
    });
    return ok ? compileRanges(ranges) : undefined;
  }

  private ipList(where: string, list: IpList): CompiledIpList {
    const allow = list.allow && list.allow.length > 0 ? this.ranges(`${where}.allow`, list.allow) : undefined;
    return { allow, deny: this.ranges(`${where}.deny`, list.deny) ?? compileRanges([]) };
  }

  private async readText(where: string, relative: string): Promise<string | undefined> {
    try {
      return await readFile(path.resolve(this.dir, relative), 'utf8');
    } catch (error) {
      this.problem(where, `cannot read ${relative}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      return undefined;
    }
  }

  async check(): Promise<LoadedPolicy> {
    const doc = this.doc;
    const ipList = this.ipList('gateway.ipList', doc.gateway.ipList);
    const trustedProxies = this.ranges('gateway.trustedProxies', doc.gateway.trustedProxies) ?? compileRanges([]);
    const listenerTls = await Promise.all(doc.gateway.listeners.map((l, i) => this.listener(`gateway.listeners[${i}]`, l)));
    const ports = new Set<string>();
    doc.gateway.listeners.forEach((l, i) => {
      const key = `${l.host}:${l.port}`;
      if (l.port !== 0 && ports.has(key)) this.problem(`gateway.listeners[${i}].port`, `${key} is used by another listener`);
      ports.add(key);
    });
    const terminals = await this.terminals();
    const operations = await this.operations();
    const gatewayKeys = await this.gatewayKeys(operations);
    if (this.problems.length > 0) throw new PolicyError(this.file, this.problems);
    return {
      file: this.file,
      document: deepFreeze(doc),
      operations,
      terminals,
      ipList,
      trustedProxies,
      listenerTls,
      gatewayKeys,
    };
  }

  private async gatewayKeys(operations: Map<string, LoadedOperation>): Promise<GatewayKeySet> {
    const keys: GatewayKey[] = [];
    const ids = new Set<string>();
    for (const [i, entry] of this.doc.gateway.keys.entries()) {
      const where = `gateway.keys[${i}]`;
      if (ids.has(entry.id)) this.problem(`${where}.id`, `key id "${entry.id}" is used twice`);
      ids.add(entry.id);
      let notAfter: number | undefined;
      if (entry.notAfter !== undefined) {
        notAfter = Date.parse(entry.notAfter);
        if (!/^\d{4}-\d\d-\d\dT/.test(entry.notAfter) || Number.isNaN(notAfter)) this.problem(`${where}.notAfter`, 'not an RFC 3339 date-time');
        else if (notAfter <= Date.now()) this.problem(`${where}.notAfter`, `the key expired at ${entry.notAfter}; remove it or give a later date`);
      }
      const text = await this.readText(`${where}.privateKeyFile`, entry.privateKeyFile);
      if (text === undefined) continue;
      try {
        keys.push({ id: entry.id, use: entry.use, key: importSm2PrivateKey(text), notAfter });
      } catch (error) {
        this.problem(`${where}.privateKeyFile`, `not an SM2 private key: ${(error as Error).message}`);
      }
    }
    const has = (use: 'sig' | 'enc') => this.doc.gateway.keys.some((k) => k.use === use);
    if (!has('sig')) {
      this.problem('gateway.keys', 'no key with use: sig; the gateway signs its responses with one (write one with `baygate keygen gateway-sig`)');
    }
    const encrypting = [...operations.values()].find((o) => o.config.encrypt !== 'off');
    if (!has('enc') && encrypting) {
      this.problem('gateway.keys', `no key with use: enc, but ${encrypting.key} accepts encrypted bodies (encrypt: ${encrypting.config.encrypt}); add one or set encrypt: off`);
    }
    return new GatewayKeySet(keys);
  }

  private async listener(where: string, listener: ListenerConfig): Promise<ListenerTls | undefined> {
    if (listener.protocol === 'http') {
      if (listener.tls || listener.clientCertificates) this.problem(where, 'tls and clientCertificates need protocol https');
      return undefined;
    }
    const tls = listener.tls;
    if (!tls || (!tls.pfxFile && !(tls.certFile && tls.keyFile))) {
      this.problem(`${where}.tls`, 'https needs certFile and keyFile (PEM) or pfxFile (PKCS#12)');
      return undefined;
    }
    let material: ListenerTls | undefined;
    if (tls.pfxFile) {
      material = await this.pkcs12(`${where}.tls.pfxFile`, tls.pfxFile, tls.passphraseFile);
    } else {
      const [cert, key] = await Promise.all([
        this.readText(`${where}.tls.certFile`, tls.certFile!),
        this.readText(`${where}.tls.keyFile`, tls.keyFile!),
      ]);
      if (cert && key) material = this.pemPair(`${where}.tls`, cert, key);
    }
    if (material && listener.clientCertificates) {
      const ca = await this.readText(`${where}.clientCertificates.caFile`, listener.clientCertificates.caFile);
      if (ca) material.ca = ca;
    }
    return material;
  }

  private pemPair(where: string, cert: string, key: string): ListenerTls | undefined {
    try {
      const certificate = forge.pki.certificateFromPem(cert);
      const now = new Date();
      if (certificate.validity.notAfter < now) this.problem(`${where}.certFile`, `the certificate expired on ${certificate.validity.notAfter.toISOString()}`);
    } catch (error) {
      // node-forge reads RSA certificates only; others are left to Node's TLS to load.
      if (!/OID is not RSA|Cannot read public key/.test((error as Error).message)) {
        this.problem(`${where}.certFile`, `not a PEM certificate: ${(error as Error).message}`);
        return undefined;
      }
    }
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
      this.problem(`${where}.keyFile`, 'not a PEM private key');
      return undefined;
    }
    return { cert, key };
  }

  private async pkcs12(where: string, file: string, passphraseFile: string | undefined): Promise<ListenerTls | undefined> {
    let der: Buffer;
    try {
      der = await readFile(path.resolve(this.dir, file));
    } catch (error) {
      this.problem(where, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`);
      return undefined;
    }
    const passphrase = passphraseFile ? (await this.readText(where.replace(/pfxFile$/, 'passphraseFile'), passphraseFile))?.trimEnd() : '';
    if (passphrase === undefined) return undefined;
    try {
      // node-forge reads legacy (RC2/3DES) bundles that OpenSSL 3 refuses without its legacy provider.
      const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))), passphrase);
      const keyBags = [
        ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] ?? []),
        ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? []),
      ];
      const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [];
      const key = keyBags.find((b) => b.key)?.key;
      if (!key || certBags.length === 0) {
        this.problem(where, 'the PKCS#12 bundle has no private key or no certificate');
        return undefined;
      }
      const cert = certBags.filter((b) => b.cert).map((b) => forge.pki.certificateToPem(b.cert!)).join('');
      return { key: forge.pki.privateKeyToPem(key), cert };
    } catch (error) {
      this.problem(where, `cannot open the PKCS#12 bundle (wrong passphrase?): ${(error as Error).message}`);
      return undefined;
    }
  }

  private async terminals(): Promise<Map<string, LoadedTerminal>> {
    const terminals = new Map<string, LoadedTerminal>();
    for (const [i, terminal] of this.doc.terminals.entries()) {
      const where = `terminals[${i}]`;
      if (terminals.has(terminal.id)) this.problem(`${where}.id`, `terminal "${terminal.id}" is declared twice`);
      terminal.services.forEach((service, j) => {
        if (!Object.hasOwn(this.doc.services, service)) this.problem(`${where}.services[${j}]`, `no service named "${service}"`);
      });
      const sourceRanges = this.ranges(`${where}.sourceRanges`, terminal.sourceRanges);
      let clientSecret: string | undefined;
      let jwks: LoadedTerminal['jwks'];
      if (terminal.auth.method === 'client_secret_basic') {
        if (!terminal.auth.secretFile) this.problem(`${where}.auth.secretFile`, 'client_secret_basic needs a secretFile');
        else {
          clientSecret = (await this.readText(`${where}.auth.secretFile`, terminal.auth.secretFile))?.trim();
          if (clientSecret !== undefined && clientSecret.length < MIN_CLIENT_SECRET_LENGTH) {
            this.problem(`${where}.auth.secretFile`, `the client secret must be at least ${MIN_CLIENT_SECRET_LENGTH} characters`);
          }
        }
      } else {
        jwks = await this.terminalJwks(`${where}.auth.jwksFile`, terminal.auth.jwksFile);
      }
      const signingKeys = new Map<string, TerminalKey>();
      if (terminal.signingKeys.length === 0) {
        this.problem(`${where}.signingKeys`, 'a terminal needs at least one SM2 public key: every call is signed (PROTOCOL.md §2)');
      }
      for (const [k, key] of terminal.signingKeys.entries()) {
        if (signingKeys.has(key.id)) this.problem(`${where}.signingKeys[${k}].id`, `key id "${key.id}" is used twice`);
        if (Buffer.byteLength(key.distinguishingId) > 8191) this.problem(`${where}.signingKeys[${k}].distinguishingId`, 'longer than 8191 bytes');
        const text = await this.readText(`${where}.signingKeys[${k}].publicKeyFile`, key.publicKeyFile);
        if (text === undefined) continue;
        try {
          signingKeys.set(key.id, { id: key.id, key: importSm2PublicKey(text), distinguishingId: key.distinguishingId });
        } catch (error) {
          this.problem(`${where}.signingKeys[${k}].publicKeyFile`, `not an SM2 public key: ${(error as Error).message}`);
        }
      }
      terminals.set(terminal.id, { config: terminal, clientSecret, jwks, sourceRanges, signingKeys });
    }
    return terminals;
  }

  private async terminalJwks(where: string, file: string | undefined): Promise<LoadedTerminal['jwks']> {
    if (!file) {
      this.problem(where, 'private_key_jwt needs a jwksFile');
      return undefined;
    }
    const text = await this.readText(where, file);
    if (text === undefined) return undefined;
    try {
      const jwks = JSON.parse(text) as { keys?: Record<string, unknown>[] };
      if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error('it has no "keys"');
      if (jwks.keys.some((k) => 'd' in k || 'p' in k || 'k' in k)) throw new Error('it holds private or symmetric key material; publish public keys only');
      return { keys: jwks.keys };
    } catch (error) {
      this.problem(where, `not a usable JWK Set: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async schema(where: string, ref: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const keys = Object.keys(ref);
    if (!(keys.length === 1 && typeof ref.file === 'string')) return ref;
    const file = path.resolve(this.dir, ref.file);
    const cached = this.schemaFiles.get(file);
    if (cached) return cached;
    const text = await this.readText(where, ref.file);
    if (text === undefined) return undefined;
    try {
      const schema = JSON.parse(text) as Record<string, unknown>;
      this.schemaFiles.set(file, schema);
      return schema;
    } catch (error) {
      this.problem(where, `${ref.file} is not JSON: ${(error as Error).message}`);
      return undefined;
    }
  }

  private compile(where: string, schema: Record<string, unknown>): ValidateFunction | undefined {
    // A schema file shared by several operations is compiled once (ajv refuses a repeated $id).
    const cached = this.compiled.get(schema);
    if (cached) return cached;
    try {
      const validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
      return validate;
    } catch (error) {
      this.problem(where, `not a usable JSON Schema: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async operations(): Promise<Map<string, LoadedOperation>> {
    const operations = new Map<string, LoadedOperation>();
    for (const [serviceName, service] of Object.entries(this.doc.services)) {
      for (const [name, operation] of Object.entries(service.operations)) {
        const where = `services.${serviceName}.operations.${name}`;
        if (!Object.hasOwn(this.doc.backends, operation.backend)) {
          this.problem(`${where}.backend`, `no backend named "${operation.backend}"`);
        }
        const requestSchema = await this.schema(`${where}.requestSchema`, operation.requestSchema);
        const responseSchema = operation.responseSchema ? await this.schema(`${where}.responseSchema`, operation.responseSchema) : undefined;
        const validateRequest = requestSchema && this.compile(`${where}.requestSchema`, requestSchema);
        const validateResponse = responseSchema && this.compile(`${where}.responseSchema`, responseSchema);
        if (validateRequest) {
          operation.examples.forEach((example, i) => {
            if (!validateRequest(structuredClone(example))) {
              const first = validateRequest.errors?.[0];
              this.problem(`${where}.examples[${i}]`, `does not match requestSchema: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim());
            }
          });
          const fields = new Set(Object.keys((requestSchema?.properties as object | undefined) ?? {}));
          const templates = [operation.request.path, ...Object.values(operation.request.query), ...Object.values(operation.request.headers)];
          for (const template of templates) {
            for (const [, field] of template.matchAll(/\{([^}]+)\}/g)) {
              if (field !== 'requestId' && field !== 'terminalId' && !fields.has(field!)) {
                this.problem(`${where}.request`, `template field {${field}} is not a property of requestSchema`);
              }
            }
          }
        }
        const ipList = this.ipList(`${where}.ipList`, operation.ipList);
        if (validateRequest && requestSchema) {
          const key = `${serviceName}/${name}`;
          operations.set(key, {
            key,
            service: serviceName,
            name,
            config: operation,
            requestSchema,
            responseSchema,
            validateRequest,
            validateResponse: validateResponse || undefined,
            ipList,
            bodyLimitBytes: operation.bodyLimitBytes ?? this.doc.gateway.bodyLimitBytes,
          });
        }
      }
    }
    return operations;
  }
}
