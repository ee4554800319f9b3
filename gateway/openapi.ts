import { CODES } from './errors.js';
import type { LoadedPolicy } from '../policies/load.js';

// The OpenAPI 3.1 description of what a token can call (PROTOCOL.md §3). It is generated from
// the policy and names no backend: base URLs, paths and headers of backends stay private.

function publicSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

const ENVELOPE_FIELDS = {
  code: { type: 'string', description: '"OK" or a PROTOCOL.md §5 code' },
  message: { type: 'string', description: 'Plain Chinese, for people' },
  messageEn: { type: 'string' },
  requestId: { type: 'string' },
  ext: { type: 'object' },
};

const REFUSAL = {
  type: 'object',
  required: ['code', 'message', 'messageEn', 'requestId'],
  properties: {
    ...ENVELOPE_FIELDS,
    code: { enum: Object.keys(CODES) },
    details: {
      type: 'array',
      items: { type: 'object', required: ['message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

export function buildOpenApi(policy: LoadedPolicy, publicUrl: string, scopes: ReadonlySet<string>): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const operation of policy.operations.values()) {
    if (!scopes.has(operation.service)) continue;
    const service = policy.document.services[operation.service]!;
    const { config } = operation;
    paths[`/api/v1/${operation.service}/${operation.name}`] = {
      [config.method.toLowerCase()]: {
        operationId: `${operation.service}.${operation.name}`,
        summary: config.title ?? operation.name,
        ...(config.summary ? { description: config.summary } : {}),
        tags: [operation.service],
        security: [{ oauth2: [operation.service] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: publicSchema(operation.requestSchema),
              examples: Object.fromEntries(config.examples.map((value, i) => [`example${i + 1}`, { value }])),
            },
          },
        },
        responses: {
          200: {
            description: 'Done',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['code', 'message', 'messageEn', 'requestId', 'data'],
                  properties: { ...ENVELOPE_FIELDS, code: { const: 'OK' }, data: operation.responseSchema ? publicSchema(operation.responseSchema) : {} },
                },
              },
            },
          },
          default: { description: 'A refusal (PROTOCOL.md §5)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Refusal' } } } },
        },
        'x-baygate-service-title': service.title,
        'x-baygate-idempotent': config.idempotent,
        'x-baygate-encrypt': config.encrypt,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Baygate', version: '1', description: 'Operations reachable with this token. Every call also carries the PROTOCOL.md §2 headers.' },
    servers: [{ url: publicUrl }],
    paths,
    components: {
      schemas: { Refusal: REFUSAL },
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          flows: {
            clientCredentials: {
              tokenUrl: `${publicUrl}/oauth/token`,
              scopes: Object.fromEntries(Object.entries(policy.document.services).map(([name, s]) => [name, s.title ?? name])),
            },
          },
        },
      },
    },
  };
}
