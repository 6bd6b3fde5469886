// A bucket's policy, edited as the JSON document it is (a form would hide what IAM reads), with
// S3's own validation error shown under its editor; and, for an operator, the bucket's quotas
// through the admin API. (CORS, lifecycle, tagging, website and encryption have forms.)
import {
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { useEffect, useState } from 'preact/hooks';
import { adminCall, errorText } from './session.js';
import { Outcome } from './ui.js';

// biome-ignore lint/suspicious/noExplicitAny: the SDK's input shapes, typed by the user as JSON
type Json = any;

interface DocumentKind {
  readonly title: string;
  /** The S3 error code GET answers when the bucket has none. */
  readonly missing: string | null;
  readonly example: Json;
  get(s3: S3Client, bucket: string): Promise<Json>;
  put(s3: S3Client, bucket: string, value: Json): Promise<unknown>;
  remove: ((s3: S3Client, bucket: string) => Promise<unknown>) | null;
}

const KINDS: readonly DocumentKind[] = [
  {
    title: 'Policy',
    missing: 'NoSuchBucketPolicy',
    example: { Version: '2012-10-17', Statement: [] },
    get: async (s3, Bucket) =>
      JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy ?? '{}'),
    put: (s3, Bucket, policy) =>
      s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(policy) })),
    remove: (s3, Bucket) => s3.send(new DeleteBucketPolicyCommand({ Bucket })),
  },
];

export function BucketDocuments({ s3, bucket }: { s3: S3Client; bucket: string }) {
  return (
    <>
      {KINDS.map((kind) => (
        <DocumentEditor key={kind.title} kind={kind} s3={s3} bucket={bucket} />
      ))}
    </>
  );
}

function DocumentEditor({
  kind,
  s3,
  bucket,
}: {
  kind: DocumentKind;
  s3: S3Client;
  bucket: string;
}) {
  const [text, setText] = useState('');
  const [exists, setExists] = useState(false);
  // The editor waits for the stored document: an edit made before it came would be overwritten.
  const [loaded, setLoaded] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const id = `doc-${kind.title.toLowerCase()}`;

  useEffect(() => {
    kind.get(s3, bucket).then(
      (value) => {
        setExists(true);
        setText(JSON.stringify(value, null, 2));
        setLoaded(true);
      },
      (caught: { name?: string }) => {
        if (caught.name === kind.missing) setText(JSON.stringify(kind.example, null, 2));
        else setProblem(errorText(caught));
        setLoaded(true);
      },
    );
  }, [s3, bucket]);

  const run = async (work: () => Promise<unknown>, done: string) => {
    setProblem(null);
    setSaved(null);
    try {
      await work();
      setSaved(done);
    } catch (caught) {
      setProblem(errorText(caught));
    }
  };
  const save = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      let value: Json;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new Error(`Not JSON: ${(error as Error).message}`);
      }
      await kind.put(s3, bucket, value);
      setExists(true);
    }, `${kind.title} saved`);
  };

  return (
    <form class="card" onSubmit={save} aria-labelledby={`${id}-title`} data-document={kind.title}>
      <h2 id={`${id}-title`}>{kind.title}</h2>
      <label>
        {kind.title} (JSON, as the AWS SDK and CLI take it)
        {loaded && !exists ? ': none set yet' : ''}
        <textarea
          disabled={!loaded}
          name={id}
          rows={6}
          class="code"
          value={text}
          aria-invalid={problem !== null}
          aria-describedby={problem === null ? undefined : `${id}-error`}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      {problem !== null && (
        <p class="error field-error" role="alert" id={`${id}-error`}>
          {problem}
        </p>
      )}
      <div class="row">
        <button type="submit">Save {kind.title.toLowerCase()}</button>
        {kind.remove !== null && exists && (
          <button
            type="button"
            onClick={() =>
              run(async () => {
                await kind.remove?.(s3, bucket);
                setExists(false);
              }, `${kind.title} removed`)
            }
          >
            Remove {kind.title.toLowerCase()}
          </button>
        )}
        {saved !== null && <span role="status">{saved}</span>}
      </div>
    </form>
  );
}

interface Quotas {
  maxSize: number | null;
  maxObjects: number | null;
}

/** The bucket's quotas (operator only: they are an admin API setting, not an S3 one). */
export function BucketQuotas({ token, bucket }: { token: string; bucket: string }) {
  const [id, setId] = useState<string | null>(null);
  const [quotas, setQuotas] = useState({ maxSize: '', maxObjects: '' });
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  useEffect(() => {
    adminCall<{ id: string; quotas: Quotas }>(token, 'GetBucketInfo', {
      query: { globalAlias: bucket },
    }).then(
      (info) => {
        setId(info.id);
        setQuotas({
          maxSize: info.quotas.maxSize === null ? '' : String(info.quotas.maxSize),
          maxObjects: info.quotas.maxObjects === null ? '' : String(info.quotas.maxObjects),
        });
      },
      (caught: unknown) => setMessage({ error: true, text: errorText(caught) }),
    );
  }, [token, bucket]);
  const save = async (event: Event) => {
    event.preventDefault();
    if (id === null) return;
    const number = (text: string) => (text.trim() === '' ? null : Number(text));
    try {
      await adminCall(token, 'UpdateBucket', {
        query: { id },
        body: {
          quotas: { maxSize: number(quotas.maxSize), maxObjects: number(quotas.maxObjects) },
        },
      });
      setMessage({ error: false, text: 'Quotas saved' });
    } catch (caught) {
      setMessage({ error: true, text: errorText(caught) });
    }
  };
  return (
    <form class="card" onSubmit={save} aria-labelledby="quotas-title">
      <h2 id="quotas-title">Quotas</h2>
      {/* Disabled until the current quotas are read: an edit made before would be overwritten. */}
      <fieldset class="inline plain" disabled={id === null}>
        <label>
          Maximum bytes (empty: none)
          <input
            name="maxSize"
            inputMode="numeric"
            value={quotas.maxSize}
            onInput={(e) => setQuotas({ ...quotas, maxSize: e.currentTarget.value })}
          />
        </label>
        <label>
          Maximum objects (empty: none)
          <input
            name="maxObjects"
            inputMode="numeric"
            value={quotas.maxObjects}
            onInput={(e) => setQuotas({ ...quotas, maxObjects: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Save quotas</button>
        <Outcome message={message} />
      </fieldset>
    </form>
  );
}
