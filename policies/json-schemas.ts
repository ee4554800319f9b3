import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isHongKongId, isMainlandResidentId, passesLuhn } from '../audit/identity-numbers.js';
import type { ErrorDetail } from '../gateway/errors.js';

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Formats a department can use in operation schemas, besides ajv-formats' standard ones. */
export const IDENTITY_FORMATS: Record<string, (value: string) => boolean> = {
  'cn-resident-id': isMainlandResidentId,
  'hk-identity-card': isHongKongId,
  'cn-mobile': (value) => /^1[3-9][0-9]{9}$/.test(value),
  'bank-card': (value) => /^[0-9]{12,19}$/.test(value) && passesLuhn(value),
};

/**
 * The ajv instance for operation schemas, one per policy load: schemas are compiled once, here,
 * and request bodies are validated against the compiled functions. Defaults are filled in, so
 * the validated object, not the bytes received, is what travels on.
 */
export function createOperationAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });
  addFormats(ajv);
  for (const [name, check] of Object.entries(IDENTITY_FORMATS)) {
    ajv.addFormat(name, { type: 'string', validate: check });
  }
  return ajv;
}

/** ajv errors as PROTOCOL.md §3 details: JSON Pointer path and a message. No values are echoed. */
export function schemaErrorDetails(errors: ErrorObject[] | null | undefined): ErrorDetail[] {
  return (errors ?? []).slice(0, 20).map((error) => {
    let path = error.instancePath;
    if (error.keyword === 'required') path += '/' + String((error.params as { missingProperty: string }).missingProperty);
    if (error.keyword === 'additionalProperties') path += '/' + String((error.params as { additionalProperty: string }).additionalProperty);
    return { path: path || '/', message: error.message ?? 'is invalid' };
  });
}

export type { ValidateFunction };
