import { badRequest } from './errors.js';

/**
 * A tiny validator for the admin API's JSON bodies: every failure is a 400 InvalidRequest whose
 * message names the field (`body.permissions.read must be a boolean`).
 */
export type JsonObject = Record<string, unknown>;

export function object(value: unknown, field: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`${field} must be a JSON object`);
  }
  return value as JsonObject;
}

/**
 * The request body (or a nested object of it, named `field`) as an object; unknown fields are
 * refused so typos do not pass silently.
 */
export function body(value: unknown, allowed: readonly string[], field = 'body'): JsonObject {
  const obj = object(value, field);
  for (const name of Object.keys(obj)) {
    if (!allowed.includes(name)) {
      throw badRequest(`${field}.${name} is not a known field (expected: ${allowed.join(', ')})`);
    }
  }
  return obj;
}

export function string(obj: JsonObject, name: string, prefix = 'body'): string {
  const value = obj[name];
  if (typeof value !== 'string') {
    throw badRequest(
      `${prefix}.${name} ${value === undefined ? 'is required' : 'must be a string'}`,
    );
  }
  return value;
}

export function optionalString(obj: JsonObject, name: string, prefix = 'body'): string | undefined {
  if (obj[name] === undefined || obj[name] === null) return undefined;
  return string(obj, name, prefix);
}

export function boolean(obj: JsonObject, name: string, prefix = 'body'): boolean {
  const value = obj[name];
  if (typeof value !== 'boolean') {
    throw badRequest(
      `${prefix}.${name} ${value === undefined ? 'is required' : 'must be a boolean'}`,
    );
  }
  return value;
}

export function optionalBoolean(
  obj: JsonObject,
  name: string,
  prefix = 'body',
): boolean | undefined {
  if (obj[name] === undefined || obj[name] === null) return undefined;
  return boolean(obj, name, prefix);
}

/** An optional nested object (`allow`, `deny`); its fields are checked by the caller. */
export function optionalObject(
  obj: JsonObject,
  name: string,
  prefix = 'body',
): JsonObject | undefined {
  if (obj[name] === undefined || obj[name] === null) return undefined;
  return object(obj[name], `${prefix}.${name}`);
}

/** A required query parameter (`?id=`). */
export function queryParam(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (value === null || value === '') throw badRequest(`query parameter ${name} is required`);
  return value;
}
