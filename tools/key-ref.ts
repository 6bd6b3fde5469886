import type { Catalog } from '../engine/catalog/catalog.js';
import { type AdminClient, OperationError } from './admin-client.js';

/**
 * `--key` names a key by its access key id or by its name (as Garage's CLI does), so that
 * `hangar key create ci-cache` can be followed by `hangar bucket allow … --key ci-cache`
 * without copying the generated id. A name must be exact and unique; an id always wins.
 */

/** The access key id `ref` names in the catalog (the CLI working on the files). */
export function keyIdInCatalog(catalog: Catalog, ref: string): string {
  if (catalog.getKey(ref) !== undefined) return ref;
  return uniqueByName(
    ref,
    catalog.listKeys().map((key) => ({ id: key.accessKeyId, name: key.name })),
  );
}

/** The access key id `ref` names on a running server (through its admin API). */
export async function keyIdThroughApi(api: AdminClient, ref: string): Promise<string> {
  const keys = await api.call<Array<{ id: string; name: string }>>('GET', 'ListKeys');
  if (keys.some((key) => key.id === ref)) return ref;
  return uniqueByName(ref, keys);
}

function uniqueByName(ref: string, keys: ReadonlyArray<{ id: string; name: string }>): string {
  const named = keys.filter((key) => key.name === ref);
  const [only] = named;
  if (only !== undefined && named.length === 1) return only.id;
  if (named.length > 1) {
    throw new OperationError(
      `${named.length} keys are named ${ref} (${named.map((key) => key.id).join(', ')}): ` +
        'give the access key id',
    );
  }
  throw new OperationError(`no key ${ref} (neither an access key id nor a key name)`);
}
