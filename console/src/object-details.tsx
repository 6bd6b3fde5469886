// One object's panel: metadata (HeadObject), tags (edited as key=value lines), a preview of
// images, text and PDF, and a presigned share link with the expiry chosen.
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { useEffect, useState } from 'preact/hooks';
import { errorText, formatBytes } from './session.js';
import { ErrorLine } from './ui.js';

interface Props {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly objectKey: string;
  readonly onClose: () => void;
}

/** Share link lifetimes offered (SigV4 presigned URLs live at most 7 days). */
const EXPIRIES: ReadonlyArray<[string, number]> = [
  ['15 minutes', 900],
  ['1 hour', 3600],
  ['1 day', 86400],
  ['7 days', 604800],
];
const PREVIEW_TEXT_BYTES = 64 * 1024;

export function ObjectDetails({ s3, bucket, objectKey, onClose }: Props) {
  const [head, setHead] = useState<HeadObjectCommandOutput | null>(null);
  const [tags, setTags] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [expiry, setExpiry] = useState(3600);
  const [shareUrl, setShareUrl] = useState<string | null>(null);
  const [preview, setPreview] = useState<{ kind: string; url: string; text?: string } | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    setShareUrl(null);
    setPreview(null);
    Promise.all([
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey })),
      s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: objectKey })),
    ]).then(
      ([headed, tagging]) => {
        setHead(headed);
        setTags((tagging.TagSet ?? []).map((tag) => `${tag.Key}=${tag.Value}`).join('\n'));
      },
      (caught: unknown) => setError(errorText(caught)),
    );
  }, [s3, bucket, objectKey]);

  const share = async () => {
    setShareUrl(
      await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: objectKey }), {
        expiresIn: expiry,
      }),
    );
  };

  const showPreview = async () => {
    const type = head?.ContentType ?? '';
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: objectKey }), {
      expiresIn: 900,
    });
    if (type.startsWith('image/')) setPreview({ kind: 'image', url });
    else if (type === 'application/pdf') setPreview({ kind: 'pdf', url });
    else {
      const response = await fetch(url, {
        headers: { range: `bytes=0-${PREVIEW_TEXT_BYTES - 1}` },
      });
      setPreview({ kind: 'text', url, text: await response.text() });
    }
  };

  const saveTags = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      const TagSet = tags
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '')
        .map((line) => {
          const at = line.indexOf('=');
          return at === -1
            ? { Key: line, Value: '' }
            : { Key: line.slice(0, at).trim(), Value: line.slice(at + 1).trim() };
        });
      await s3.send(
        new PutObjectTaggingCommand({ Bucket: bucket, Key: objectKey, Tagging: { TagSet } }),
      );
      setSaved(true);
    } catch (caught) {
      setError(errorText(caught));
    }
  };

  return (
    <aside class="card details" aria-label={`Object ${objectKey}`}>
      <header class="row">
        <h2>{objectKey}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      <ErrorLine text={error} />
      {head !== null && (
        <dl>
          <dt>Size</dt>
          <dd>{formatBytes(head.ContentLength ?? 0)}</dd>
          <dt>Type</dt>
          <dd>{head.ContentType}</dd>
          <dt>ETag</dt>
          <dd>{head.ETag}</dd>
          <dt>Modified</dt>
          <dd>{head.LastModified?.toISOString()}</dd>
          {Object.entries(head.Metadata ?? {}).map(([name, value]) => (
            <>
              <dt>x-amz-meta-{name}</dt>
              <dd>{value}</dd>
            </>
          ))}
        </dl>
      )}
      <form onSubmit={saveTags}>
        <label>
          Tags (one key=value a line)
          <textarea
            name="tags"
            rows={3}
            value={tags}
            onInput={(e) => setTags(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Save tags</button>
        {saved && <span role="status"> Saved</span>}
      </form>
      <div class="row">
        <label>
          Share link expires after
          <select value={expiry} onChange={(e) => setExpiry(Number(e.currentTarget.value))}>
            {EXPIRIES.map(([label, seconds]) => (
              <option key={seconds} value={seconds}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={share}>
          Create share link
        </button>
        <button type="button" onClick={showPreview}>
          Preview
        </button>
      </div>
      {shareUrl !== null && (
        <div class="row">
          <label class="grow">
            Share link
            <input
              readOnly
              name="shareUrl"
              value={shareUrl}
              onFocus={(e) => e.currentTarget.select()}
            />
          </label>
          <button type="button" onClick={() => navigator.clipboard.writeText(shareUrl)}>
            Copy
          </button>
        </div>
      )}
      {preview?.kind === 'image' && <img class="preview" src={preview.url} alt={objectKey} />}
      {preview?.kind === 'pdf' && (
        <iframe class="preview" src={preview.url} title={`Preview of ${objectKey}`} />
      )}
      {preview?.kind === 'text' && <pre class="preview">{preview.text}</pre>}
    </aside>
  );
}
