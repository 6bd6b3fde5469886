import { type HangarConfig, tlsFilesOf } from '../../engine/config.js';

/**
 * The scheme a client reached hangar by, for the URLs hangar writes back (Location headers and
 * elements, website redirects without a configured protocol): https when hangar serves TLS
 * itself or when a proxy in front says so (X-Forwarded-Proto: https), else http.
 */
export function clientScheme(
  config: HangarConfig,
  headers: Readonly<Record<string, string>>,
): 'http' | 'https' {
  if (tlsFilesOf(config) !== null) return 'https';
  return headers['x-forwarded-proto']?.toLowerCase() === 'https' ? 'https' : 'http';
}
