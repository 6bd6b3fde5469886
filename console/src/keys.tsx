// Access keys (operator view): create, import, delete; the secret of a new key shown once with
// a copy button; and the grants matrix, keys × buckets × read/write/owner, each box one
// AllowBucketKey or DenyBucketKey call.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { PageProps } from './main.js';
import { adminCall, errorText } from './session.js';
import { ErrorLine } from './ui.js';

type Permission = 'read' | 'write' | 'owner';
const PERMISSIONS: readonly Permission[] = ['read', 'write', 'owner'];

interface KeyInfo {
  readonly accessKeyId: string;
  readonly name: string;
  readonly root: boolean;
  readonly secretAccessKey?: string;
  readonly buckets: ReadonlyArray<{ id: string; permissions: Record<Permission, boolean> }>;
}
interface BucketEntry {
  readonly id: string;
  readonly globalAliases: string[];
}

export function Keys({ session }: PageProps) {
  const token = session.adminToken ?? '';
  const [keys, setKeys] = useState<KeyInfo[] | null>(null);
  const [buckets, setBuckets] = useState<BucketEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<KeyInfo | null>(null);
  const [importing, setImporting] = useState({ accessKeyId: '', secretAccessKey: '', name: '' });

  const refresh = useCallback(async () => {
    try {
      const listed = await adminCall<Array<{ id: string }>>(token, 'ListKeys');
      const infos = await Promise.all(
        listed.map((key) => adminCall<KeyInfo>(token, 'GetKeyInfo', { query: { id: key.id } })),
      );
      setKeys(infos.filter((key) => !key.root));
      setBuckets(await adminCall<BucketEntry[]>(token, 'ListBuckets'));
    } catch (caught) {
      setError(errorText(caught));
    }
  }, [token]);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      await refresh();
    } catch (caught) {
      setError(errorText(caught));
    }
  };

  const create = (event: Event) => {
    event.preventDefault();
    void act(async () => {
      setCreated(await adminCall<KeyInfo>(token, 'CreateKey', { body: { name } }));
      setName('');
    });
  };
  const importKey = (event: Event) => {
    event.preventDefault();
    void act(() => adminCall(token, 'ImportKey', { body: importing }));
  };
  const remove = (key: KeyInfo) => {
    if (!confirm(`Delete key ${key.accessKeyId} (${key.name})?`)) return;
    void act(() => adminCall(token, 'DeleteKey', { query: { id: key.accessKeyId }, body: {} }));
  };
  const setGrant = (key: KeyInfo, bucketId: string, permission: Permission, on: boolean) =>
    act(() =>
      adminCall(token, on ? 'AllowBucketKey' : 'DenyBucketKey', {
        body: {
          bucketId,
          accessKeyId: key.accessKeyId,
          permissions: { read: false, write: false, owner: false, [permission]: true },
        },
      }),
    );

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Access keys</h1>
      <div class="row wrap">
        <form class="inline card" onSubmit={create}>
          <label>
            New key name
            <input
              name="keyName"
              required
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Create key</button>
        </form>
        <form class="inline card" onSubmit={importKey}>
          {(['accessKeyId', 'name'] as const).map((field) => (
            <label key={field}>
              {field === 'name' ? 'Name' : 'Access key ID'}
              <input
                name={`import-${field}`}
                required={field !== 'name'}
                value={importing[field]}
                onInput={(e) => setImporting({ ...importing, [field]: e.currentTarget.value })}
              />
            </label>
          ))}
          <label>
            Secret
            <input
              name="import-secretAccessKey"
              required
              type="password"
              value={importing.secretAccessKey}
              onInput={(e) =>
                setImporting({ ...importing, secretAccessKey: e.currentTarget.value })
              }
            />
          </label>
          <button type="submit">Import key</button>
        </form>
      </div>
      {created !== null && (
        <div class="card secret" role="status">
          <p>
            Key <code data-created-key>{created.accessKeyId}</code> created. Its secret is shown
            once, now:
          </p>
          <code data-created-secret>{created.secretAccessKey}</code>
          <button
            type="button"
            onClick={() => navigator.clipboard.writeText(created.secretAccessKey ?? '')}
          >
            Copy secret
          </button>
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <ErrorLine text={error} />
      {keys === null ? (
        <p aria-busy="true">Loading…</p>
      ) : (
        <div class="scroll-x">
          <table class="list matrix">
            <caption>Grants: which key may read, write or own each bucket</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                {buckets.map((bucket) => (
                  <th scope="col" key={bucket.id}>
                    {bucket.globalAliases[0] ?? bucket.id}
                  </th>
                ))}
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.accessKeyId} data-key-id={key.accessKeyId}>
                  <th scope="row">
                    {key.name} <code>{key.accessKeyId}</code>
                  </th>
                  {buckets.map((bucket) => {
                    const grant = key.buckets.find((b) => b.id === bucket.id)?.permissions;
                    const bucketName = bucket.globalAliases[0] ?? bucket.id;
                    return (
                      <td key={bucket.id} data-bucket={bucketName}>
                        {PERMISSIONS.map((permission) => (
                          <label key={permission} class="grant">
                            <input
                              type="checkbox"
                              name={permission}
                              checked={grant?.[permission] ?? false}
                              onChange={(e) =>
                                setGrant(key, bucket.id, permission, e.currentTarget.checked)
                              }
                            />
                            <span aria-hidden="true">{permission[0]?.toUpperCase()}</span>
                            <span class="sr-only">
                              {permission} on {bucketName} for {key.name}
                            </span>
                          </label>
                        ))}
                      </td>
                    );
                  })}
                  <td>
                    <button type="button" onClick={() => remove(key)}>
                      Delete <span class="sr-only">{key.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
