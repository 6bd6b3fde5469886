// A bucket's data protection: the versioning switch (PutBucketVersioning) and, on a bucket
// created with object lock, its default retention (PutObjectLockConfiguration). Each form has
// the XML S3 stores beside it, as the CORS form does, and S3's refusal shown in place.
import {
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  type ObjectLockConfiguration,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { useEffect, useState } from 'preact/hooks';
import { errorText } from './session.js';
import { Outcome } from './ui.js';

type Message = { error: boolean; text: string } | null;

const XMLNS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

export function BucketProtection({ s3, bucket }: { s3: S3Client; bucket: string }) {
  return (
    <>
      <VersioningSwitch s3={s3} bucket={bucket} />
      <ObjectLockRetention s3={s3} bucket={bucket} />
    </>
  );
}

/** Versioning is Enabled or Suspended once set; a bucket never versioned shows neither. */
function VersioningSwitch({ s3, bucket }: { s3: S3Client; bucket: string }) {
  const [status, setStatus] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [message, setMessage] = useState<Message>(null);
  useEffect(() => {
    // Another bucket: nothing of the last one's may be saved onto this one before it is read.
    setLoaded(false);
    setStatus(null);
    setMessage(null);
    s3.send(new GetBucketVersioningCommand({ Bucket: bucket })).then(
      (got) => {
        setStatus(got.Status ?? null);
        setLoaded(true);
      },
      (caught: unknown) => setMessage({ error: true, text: errorText(caught) }),
    );
  }, [s3, bucket]);
  const save = async (event: Event) => {
    event.preventDefault();
    if (status === null) return;
    setMessage(null);
    try {
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: bucket,
          VersioningConfiguration: { Status: status as 'Enabled' | 'Suspended' },
        }),
      );
      setMessage({ error: false, text: 'Versioning saved' });
    } catch (caught) {
      setMessage({ error: true, text: errorText(caught) });
    }
  };
  const xml =
    status === null
      ? `<VersioningConfiguration ${XMLNS}/>`
      : `<VersioningConfiguration ${XMLNS}>\n  <Status>${status}</Status>\n</VersioningConfiguration>`;
  return (
    <div class="split">
      <form class="card" onSubmit={save} aria-labelledby="versioning-title">
        <h2 id="versioning-title">Versioning</h2>
        {loaded && status === null && <p>Never versioned: one version per key.</p>}
        <fieldset class="inline plain" disabled={!loaded}>
          <legend class="sr-only">Versioning status</legend>
          {['Enabled', 'Suspended'].map((value) => (
            <label key={value}>
              <input
                type="radio"
                name="versioning"
                value={value}
                checked={status === value}
                onChange={() => setStatus(value)}
              />
              {value}
            </label>
          ))}
          <button type="submit" disabled={status === null}>
            Save versioning
          </button>
          <Outcome message={message} />
        </fieldset>
      </form>
      <div class="card">
        <h2>Versioning XML</h2>
        <pre class="xml" data-xml="versioning">
          {xml}
        </pre>
      </div>
    </div>
  );
}

interface RetentionForm {
  mode: '' | 'GOVERNANCE' | 'COMPLIANCE';
  period: string;
  unit: 'Days' | 'Years';
}

function toConfiguration(form: RetentionForm): ObjectLockConfiguration {
  if (form.mode === '') return { ObjectLockEnabled: 'Enabled' };
  return {
    ObjectLockEnabled: 'Enabled',
    Rule: { DefaultRetention: { Mode: form.mode, [form.unit]: Number(form.period) } },
  };
}

function toForm(config: ObjectLockConfiguration | undefined): RetentionForm {
  const retention = config?.Rule?.DefaultRetention;
  if (retention?.Mode === undefined) return { mode: '', period: '', unit: 'Days' };
  return retention.Years !== undefined
    ? { mode: retention.Mode, period: String(retention.Years), unit: 'Years' }
    : { mode: retention.Mode, period: String(retention.Days ?? ''), unit: 'Days' };
}

function lockXml(config: ObjectLockConfiguration): string {
  const retention = config.Rule?.DefaultRetention;
  const rule =
    retention === undefined
      ? ''
      : `  <Rule>\n    <DefaultRetention>\n      <Mode>${retention.Mode}</Mode>\n${
          retention.Years !== undefined
            ? `      <Years>${retention.Years}</Years>\n`
            : `      <Days>${retention.Days}</Days>\n`
        }    </DefaultRetention>\n  </Rule>\n`;
  return `<ObjectLockConfiguration ${XMLNS}>\n  <ObjectLockEnabled>Enabled</ObjectLockEnabled>\n${rule}</ObjectLockConfiguration>`;
}

/** Default retention; shown only when the bucket was created with object lock. */
function ObjectLockRetention({ s3, bucket }: { s3: S3Client; bucket: string }) {
  const [form, setForm] = useState<RetentionForm | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [absent, setAbsent] = useState(false);
  useEffect(() => {
    setForm(null);
    setAbsent(false);
    setMessage(null);
    s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket })).then(
      (got) => setForm(toForm(got.ObjectLockConfiguration)),
      (caught: { name?: string }) => {
        // No object lock on this bucket: there is nothing to set, so no form.
        if (caught.name === 'ObjectLockConfigurationNotFoundError') setAbsent(true);
        else setMessage({ error: true, text: errorText(caught) });
      },
    );
  }, [s3, bucket]);
  if (form === null) {
    if (absent) {
      return (
        <p class="card" data-object-lock="off">
          Object lock is off on this bucket: S3 turns it on only when a bucket is created.
        </p>
      );
    }
    return message === null ? null : <Outcome message={message} />;
  }
  const save = async (event: Event) => {
    event.preventDefault();
    setMessage(null);
    try {
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: bucket,
          ObjectLockConfiguration: toConfiguration(form),
        }),
      );
      setMessage({ error: false, text: 'Object lock saved' });
    } catch (caught) {
      setMessage({ error: true, text: errorText(caught) });
    }
  };
  return (
    <div class="split">
      <form class="card" onSubmit={save} aria-labelledby="lock-title">
        <h2 id="lock-title">Object lock default retention</h2>
        <label>
          Retention mode
          <select
            name="lockMode"
            value={form.mode}
            onChange={(e) =>
              setForm({ ...form, mode: e.currentTarget.value as RetentionForm['mode'] })
            }
          >
            <option value="">None</option>
            <option value="GOVERNANCE">Governance</option>
            <option value="COMPLIANCE">Compliance</option>
          </select>
        </label>
        <label>
          Retention period
          <input
            name="lockPeriod"
            inputMode="numeric"
            disabled={form.mode === ''}
            value={form.period}
            onInput={(e) => setForm({ ...form, period: e.currentTarget.value })}
          />
        </label>
        <label>
          Period unit
          <select
            name="lockUnit"
            disabled={form.mode === ''}
            value={form.unit}
            onChange={(e) => setForm({ ...form, unit: e.currentTarget.value as 'Days' | 'Years' })}
          >
            <option value="Days">Days</option>
            <option value="Years">Years</option>
          </select>
        </label>
        <div class="row">
          <button type="submit">Save object lock</button>
          <Outcome message={message} />
        </div>
      </form>
      <div class="card">
        <h2>Object lock XML</h2>
        <pre class="xml" data-xml="object-lock">
          {lockXml(toConfiguration(form))}
        </pre>
      </div>
    </div>
  );
}
