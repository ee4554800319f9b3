// The policy document after schema validation (defaults filled in). Field meanings are
// documented in policy.schema.json, which is the published contract.

export type Region = string;

export interface IpList {
  allow?: string[];
  deny: string[];
}

export interface RateLimit {
  points: number;
  durationSeconds: number;
}

export interface ListenerConfig {
  name?: string;
  protocol: 'http' | 'https';
  host: string;
  port: number;
  tls?: { certFile?: string; keyFile?: string; pfxFile?: string; passphraseFile?: string };
  clientCertificates?: { caFile: string; required: boolean };
}

export interface TerminalConfig {
  id: string;
  name?: string;
  region: Region;
  department: string;
  status: 'active' | 'locked';
  auth: { method: 'client_secret_basic' | 'private_key_jwt'; secretFile?: string; jwksFile?: string };
  services: string[];
  sourceRanges?: string[];
  signingKeys: { id: string; publicKeyFile: string; distinguishingId: string }[];
  rateLimit?: RateLimit;
}

export interface RestBackendConfig {
  kind: 'rest';
  region: Region;
  description?: string;
  baseUrl: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  connections: number;
  retries: number;
  maxResponseBytes: number;
  headers: Record<string, string>;
}

export type BackendConfig = RestBackendConfig;

export type JsonSchemaRef = { file: string } | Record<string, unknown>;

export interface OperationConfig {
  title?: string;
  summary?: string;
  method: 'POST' | 'GET' | 'PUT' | 'PATCH' | 'DELETE';
  backend: string;
  idempotent: boolean;
  suspended: boolean;
  request: {
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    path: string;
    query: Record<string, string>;
    headers: Record<string, string>;
    body: 'request' | 'none';
  };
  response: { dataPath?: string };
  requestSchema: JsonSchemaRef;
  responseSchema?: JsonSchemaRef;
  examples: unknown[];
  bodyLimitBytes?: number;
  rateLimit?: RateLimit;
  ipList: IpList;
  encrypt: 'required' | 'optional' | 'off';
  signResponse: boolean;
}

export interface ServiceConfig {
  title?: string;
  department?: string;
  suspended: boolean;
  operations: Record<string, OperationConfig>;
}

export type MaskRule = 'name' | 'district' | 'partial' | 'full' | 'drop';

export interface GatewayKeyConfig {
  id: string;
  use: 'sig' | 'enc';
  privateKeyFile: string;
  notAfter?: string;
}

export interface PolicyDocument {
  version: 1;
  gateway: {
    listeners: ListenerConfig[];
    publicUrl?: string;
    timeouts: { headersMs: number; requestMs: number; keepAliveMs: number; socketIdleMs: number };
    trustedProxies: string[];
    ipList: IpList;
    rateLimits: { perAddress?: RateLimit; perTerminal?: RateLimit };
    bodyLimitBytes: number;
    signatureWindowSeconds: number;
    keys: GatewayKeyConfig[];
    stateStore: { kind: 'memory'; maxNonces: number; maxNoncesPerTerminal: number };
  };
  oauth: {
    audience: string;
    accessTokenTtlSeconds: number;
    tokenAlgorithms: ('ES256' | 'PS256' | 'RS256' | 'EdDSA')[];
  };
  audit: {
    store: { kind: 'sqlite'; file: string };
    summaryMaxChars: number;
  };
  masking: { fields: { field: string; rule: MaskRule }[] };
  terminals: TerminalConfig[];
  backends: Record<string, BackendConfig>;
  services: Record<string, ServiceConfig>;
}
