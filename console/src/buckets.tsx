// Buckets: the list (with usage for an operator), create and delete. An operator works through
// the admin API; a bucket user through S3 (ListBuckets shows only what the key may see).
import { CreateBucketCommand, DeleteBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { PageProps } from './main.js';
import { adminCall, errorText, formatBytes } from './session.js';
import { ErrorLine } from './ui.js';

interface BucketRow {
  readonly name: string;
  readonly id: string | null;
  readonly created: string;
  readonly objects: number | null;
  readonly bytes: number | null;
}

interface AdminBucket {
  readonly id: string;
  readonly created: string;
  readonly globalAliases: string[];
}
interface AdminBucketInfo {
  readonly objects: number;
  readonly bytes: number;
}

async function listRows({ session, s3 }: PageProps): Promise<BucketRow[]> {
  const token = session.adminToken;
  if (token !== null) {
    const buckets = await adminCall<AdminBucket[]>(token, 'ListBuckets');
    return Promise.all(
      buckets.map(async (bucket) => {
        const info = await adminCall<AdminBucketInfo>(token, 'GetBucketInfo', {
          query: { id: bucket.id },
        });
        return {
          name: bucket.globalAliases[0] ?? bucket.id,
          id: bucket.id,
          created: bucket.created,
          objects: info.objects,
          bytes: info.bytes,
        };
      }),
    );
  }
  if (s3 === null) return [];
  const listed = await s3.send(new ListBucketsCommand({}));
  return (listed.Buckets ?? []).map((bucket) => ({
    name: bucket.Name ?? '',
    id: null,
    created: bucket.CreationDate?.toISOString() ?? '',
    objects: null,
    bytes: null,
  }));
}

export function Buckets(props: PageProps) {
  const [rows, setRows] = useState<BucketRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The creation's refusal, apart: it is about the name field, and is tied to it.
  const [createError, setCreateError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const token = props.session.adminToken;

  const refresh = useCallback(() => {
    listRows(props).then(
      (next) => setRows(next.sort((a, b) => a.name.localeCompare(b.name))),
      (caught: unknown) => setError(errorText(caught)),
    );
  }, [props.session, props.s3]);
  useEffect(refresh, [refresh]);

  const create = async (event: Event) => {
    event.preventDefault();
    setCreateError(null);
    try {
      if (token !== null) await adminCall(token, 'CreateBucket', { body: { globalAlias: name } });
      else await props.s3?.send(new CreateBucketCommand({ Bucket: name }));
      setName('');
      refresh();
    } catch (caught) {
      setCreateError(errorText(caught));
    }
  };

  const remove = async (row: BucketRow) => {
    if (!confirm(`Delete bucket ${row.name}? It must be empty.`)) return;
    setError(null);
    try {
      if (token !== null && row.id !== null) {
        await adminCall(token, 'DeleteBucket', { query: { id: row.id }, body: {} });
      } else await props.s3?.send(new DeleteBucketCommand({ Bucket: row.name }));
      refresh();
    } catch (caught) {
      setError(errorText(caught));
    }
  };

  return (
    <section aria-labelledby="buckets-title">
      <h1 id="buckets-title">Buckets</h1>
      <form class="inline" onSubmit={create}>
        <label>
          New bucket name
          <input
            name="bucketName"
            required
            pattern="[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]"
            aria-invalid={createError !== null}
            aria-describedby={createError === null ? undefined : 'create-bucket-error'}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Create bucket</button>
      </form>
      <ErrorLine text={createError} id="create-bucket-error" />
      <ErrorLine text={error} />
      {rows === null ? (
        <p aria-busy="true">Loading…</p>
      ) : rows.length === 0 ? (
        <p>No buckets yet.</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              {token !== null && <th scope="col">Objects</th>}
              {token !== null && <th scope="col">Size</th>}
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.name} data-bucket={row.name}>
                <td>
                  <a href={`#/buckets/${encodeURIComponent(row.name)}`}>{row.name}</a>
                </td>
                <td>{row.created.slice(0, 19).replace('T', ' ')}</td>
                {token !== null && <td>{row.objects}</td>}
                {token !== null && <td>{formatBytes(row.bytes ?? 0)}</td>}
                <td class="actions">
                  <a href={`#/buckets/${encodeURIComponent(row.name)}/settings`}>Settings</a>
                  <button type="button" onClick={() => remove(row)}>
                    Delete <span class="sr-only">{row.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
