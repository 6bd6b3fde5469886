// The object browser: one folder level at a time (ListObjectsV2 with Delimiter '/'), pages
// fetched as the list scrolls (so a folder of millions of keys costs one page per screenful),
// uploads by picker or drag-and-drop, and per-object download, share, details and delete.
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { PageProps } from './main.js';
import { ObjectDetails } from './object-details.js';
import { errorText, formatBytes } from './session.js';
import { ErrorLine } from './ui.js';
import { type PickedFile, startUploads, type UploadItem } from './upload.js';

/** Keys asked per listing page: a few screenfuls, so scrolling fetches the next. */
const PAGE_KEYS = 500;

interface Row {
  readonly key: string;
  readonly folder: boolean;
  readonly size: number;
  readonly modified: string;
}

interface Listing {
  readonly rows: Row[];
  readonly token: string | undefined;
  readonly done: boolean;
}

async function listPage(
  s3: S3Client,
  bucket: string,
  prefix: string,
  token: string | undefined,
): Promise<Listing> {
  const page = await s3.send(
    new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: prefix,
      Delimiter: '/',
      MaxKeys: PAGE_KEYS,
      ...(token === undefined ? {} : { ContinuationToken: token }),
    }),
  );
  const folders: Row[] = (page.CommonPrefixes ?? []).map((p) => ({
    key: p.Prefix ?? '',
    folder: true,
    size: 0,
    modified: '',
  }));
  const files: Row[] = (page.Contents ?? []).map((o) => ({
    key: o.Key ?? '',
    folder: false,
    size: o.Size ?? 0,
    modified: o.LastModified?.toISOString() ?? '',
  }));
  return {
    // Keys and prefixes come in one order, key order: merged here to keep it.
    rows: [...folders, ...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    token: page.NextContinuationToken,
    done: page.IsTruncated !== true,
  };
}

/** A presigned GET that makes the browser save the object. */
export function downloadUrl(s3: S3Client, bucket: string, key: string): Promise<string> {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return getSignedUrl(
    s3,
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ResponseContentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    }),
    { expiresIn: 300 },
  );
}

export function Objects({ s3, bucket }: PageProps & { bucket: string }) {
  if (s3 === null) {
    return (
      <p role="alert">
        Browsing objects needs S3 keys: sign in again with an access key beside the admin token.
      </p>
    );
  }
  return <Browser s3={s3} bucket={bucket} />;
}

function Browser({ s3, bucket }: { s3: S3Client; bucket: string }) {
  const [prefix, setPrefix] = useState('');
  const [listing, setListing] = useState<Listing>({ rows: [], token: undefined, done: false });
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const [details, setDetails] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const sentinel = useRef<HTMLTableRowElement>(null);
  const generation = useRef(0);

  const reload = useCallback(() => {
    generation.current++;
    setListing({ rows: [], token: undefined, done: false });
    setSelected(new Set());
  }, []);
  useEffect(reload, [prefix, bucket]);

  const loadMore = useCallback(() => {
    if (loading || listing.done) return;
    const mine = generation.current;
    setLoading(true);
    listPage(s3, bucket, prefix, listing.token)
      .then((page) => {
        if (mine !== generation.current) return;
        setListing({ rows: [...listing.rows, ...page.rows], token: page.token, done: page.done });
      })
      .catch((caught: unknown) => setError(errorText(caught)))
      .finally(() => setLoading(false));
  }, [s3, bucket, prefix, listing, loading]);

  // Infinite scroll: the next page is fetched when the row after the last one comes into view.
  useEffect(() => {
    const target = sentinel.current;
    if (target === null) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadMore();
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [loadMore]);

  const upload = (files: PickedFile[]) => {
    if (files.length === 0) return;
    // The items come back through the callback, queued first, then on every progress step.
    startUploads(s3, bucket, prefix, files, (changed) => {
      // Newest batch first, then the same order every time (rows that move under the pointer
      // cannot be clicked).
      setUploads((all) => [...changed.filter((u) => !all.includes(u)), ...all]);
      if (changed.every((u) => u.state !== 'queued' && u.state !== 'uploading')) reload();
    });
  };

  const pick = (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    upload(
      [...(input.files ?? [])].map((file) => ({
        file,
        relativePath: file.webkitRelativePath || file.name,
      })),
    );
    input.value = '';
  };

  const drop = async (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    // A dropped folder comes only as an entry; an item with no entry (a file a page made, or
    // a browser without the entries API) is still a file.
    const dropped = [...(event.dataTransfer?.items ?? [])]
      .filter((item) => item.kind === 'file')
      .map((item) => item.webkitGetAsEntry() ?? item.getAsFile());
    const files = await Promise.all(
      dropped.map((entry) =>
        entry instanceof File
          ? [{ file: entry, relativePath: entry.name }]
          : entry === null
            ? []
            : filesOf(entry, ''),
      ),
    );
    upload(files.flat());
  };

  const remove = async (keys: string[]) => {
    if (!confirm(`Delete ${keys.length === 1 ? keys[0] : `${keys.length} objects`}?`)) return;
    setError(null);
    try {
      if (keys.length === 1) {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[0] }));
      } else {
        const result = await s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0) setError(`${failed.length} not deleted: ${failed[0]?.Message}`);
      }
      reload();
    } catch (caught) {
      setError(errorText(caught));
    }
  };

  const download = async (key: string) => {
    const link = document.createElement('a');
    link.href = await downloadUrl(s3, bucket, key);
    link.rel = 'noopener';
    link.click();
  };

  const toggle = (key: string) => {
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setSelected(next);
  };

  const crumbs = prefix.split('/').filter((part) => part !== '');
  return (
    <section
      aria-labelledby="objects-title"
      class={dragging ? 'dropzone dragging' : 'dropzone'}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={drop}
    >
      <h1 id="objects-title">
        <a href="#/buckets">Buckets</a> / {bucket}
      </h1>
      <nav aria-label="Folder" class="crumbs">
        <button type="button" class="link" onClick={() => setPrefix('')}>
          {bucket}
        </button>
        {crumbs.map((part, index) => (
          <span key={part + index}>
            {' / '}
            <button
              type="button"
              class="link"
              onClick={() => setPrefix(`${crumbs.slice(0, index + 1).join('/')}/`)}
            >
              {part}
            </button>
          </span>
        ))}
      </nav>
      <div class="toolbar">
        <label class="button">
          Upload files
          <input type="file" multiple class="sr-only" name="files" onChange={pick} />
        </label>
        <label class="button">
          Upload folder
          <input
            type="file"
            multiple
            class="sr-only"
            name="folder"
            {...{ webkitdirectory: true }}
            onChange={pick}
          />
        </label>
        <button type="button" onClick={reload}>
          Refresh
        </button>
        <button type="button" disabled={selected.size === 0} onClick={() => remove([...selected])}>
          Delete selected ({selected.size})
        </button>
        <a href={`#/buckets/${encodeURIComponent(bucket)}/settings`}>Bucket settings</a>
        <span class="hint">or drop files and folders here</span>
      </div>
      <ErrorLine text={error} />
      <UploadList items={uploads} onClear={() => setUploads(uploads.filter(isActive))} />
      {details !== null && (
        <ObjectDetails
          s3={s3}
          bucket={bucket}
          objectKey={details}
          onClose={() => setDetails(null)}
        />
      )}
      <div class="scroller">
        <table class="list objects">
          <caption class="sr-only">
            Objects in {bucket}/{prefix}
          </caption>
          <thead>
            <tr>
              <th scope="col">
                <span class="sr-only">Select</span>
              </th>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Modified</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {listing.rows.map((row) => {
              const name = row.key.slice(prefix.length);
              return (
                <tr key={row.key} data-key={row.key}>
                  <td>
                    {!row.folder && (
                      <input
                        type="checkbox"
                        aria-label={`Select ${name}`}
                        checked={selected.has(row.key)}
                        onChange={() => toggle(row.key)}
                      />
                    )}
                  </td>
                  <td>
                    {row.folder ? (
                      <button type="button" class="link folder" onClick={() => setPrefix(row.key)}>
                        {name}
                      </button>
                    ) : (
                      <button type="button" class="link" onClick={() => setDetails(row.key)}>
                        {name}
                      </button>
                    )}
                  </td>
                  <td>{row.folder ? '' : formatBytes(row.size)}</td>
                  <td>{row.modified.slice(0, 19).replace('T', ' ')}</td>
                  <td class="actions">
                    {!row.folder && (
                      <>
                        <button type="button" onClick={() => download(row.key)}>
                          Download <span class="sr-only">{name}</span>
                        </button>
                        <button type="button" onClick={() => remove([row.key])}>
                          Delete <span class="sr-only">{name}</span>
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
            <tr ref={sentinel} class="sentinel">
              <td colSpan={5} aria-live="polite">
                {loading
                  ? 'Loading…'
                  : listing.done
                    ? `${listing.rows.length} entries`
                    : 'Scroll for more'}
              </td>
            </tr>
          </tbody>
        </table>
      </div>
    </section>
  );
}

function isActive(item: UploadItem): boolean {
  return item.state === 'queued' || item.state === 'uploading';
}

function UploadList({ items, onClear }: { items: UploadItem[]; onClear: () => void }) {
  if (items.length === 0) return null;
  const done = items.filter((item) => item.state === 'done').length;
  return (
    <section class="uploads" aria-label="Uploads">
      <p aria-live="polite" class="upload-summary">
        {done} of {items.length} uploaded
        <button type="button" onClick={onClear}>
          Clear finished
        </button>
      </p>
      <ul>
        {items.map((item) => (
          <li
            key={item.id}
            data-upload={item.key}
            data-state={item.state}
            data-loaded={item.loaded}
          >
            <span class="name">{item.key}</span>
            <progress
              max={item.size || 1}
              value={item.size === 0 && item.state === 'done' ? 1 : item.loaded}
              aria-label={`Upload of ${item.key}`}
            />
            <span class="state">
              {item.state === 'uploading'
                ? `${Math.floor((100 * item.loaded) / Math.max(1, item.size))}%`
                : item.state}
              {item.error !== undefined ? `: ${item.error}` : ''}
            </span>
            {isActive(item) && (
              <button type="button" onClick={item.cancel}>
                Cancel <span class="sr-only">{item.key}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The files under a dropped entry (a folder is walked), with their paths relative to it. */
async function filesOf(entry: FileSystemEntry, base: string): Promise<PickedFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    return [{ file, relativePath: `${base}${entry.name}` }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries answers in batches until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const nested = await Promise.all(
    children.map((child) => filesOf(child, `${base}${entry.name}/`)),
  );
  return nested.flat();
}
