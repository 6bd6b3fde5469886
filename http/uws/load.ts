import type * as UwsTypes from 'uWebSockets.js';
import { createRequire } from 'node:module';

export type Uws = typeof UwsTypes;

/**
 * Why the native binary is not what would serve, and what to do about it: `hangar doctor` prints
 * the two parts in its own columns, the server's refusal joins them.
 */
export class UwsLoadError extends Error {
  constructor(
    readonly found: string,
    readonly fix: string,
  ) {
    super(`hangar: ${found}. ${fix}`);
  }
}

/**
 * Loads uWebSockets.js and refuses its fallback. The package catches a failed native load (wrong
 * Node ABI, glibc too old), prints a warning and quietly returns a slow `ws`-based shim, which
 * would serve at a fraction of the speed hangar promises. hangar stops instead, saying why.
 */
export function loadUws(): Uws {
  if (isTruthy(process.env['UWS_USE_FALLBACK'])) {
    throw new UwsLoadError(
      'UWS_USE_FALLBACK is set; hangar only serves on the native uWebSockets.js binary',
      'Unset it.',
    );
  }
  const require = createRequire(import.meta.url);
  const uws = require('uWebSockets.js') as Uws;
  const native =
    typeof uws.SSLApp === 'function' &&
    typeof (uws as { getParts?: unknown }).getParts === 'function';
  if (!native) {
    throw new UwsLoadError(
      `the native uWebSockets.js binary did not load (platform ${process.platform}-${process.arch}, ` +
        `Node ABI ${process.versions.modules}); refusing to serve on the slow ws fallback`,
      'Use Node 20 on glibc >= 2.28 and reinstall with `npm ci`.',
    );
  }
  return uws;
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true'].includes(value.toLowerCase());
}
