// Bucket settings: CORS rules edited as a form, the XML S3 stores shown beside it, and S3's
// validation errors (PutBucketCors answers them) shown at the field they are about.
import {
  type CORSRule,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
} from '@aws-sdk/client-s3';
import { useEffect, useState } from 'preact/hooks';
import { BucketAliases } from './bucket-aliases.js';
import { BucketDocuments, BucketQuotas } from './bucket-documents.js';
import { BucketProtection } from './bucket-protection.js';
import type { PageProps } from './main.js';
import { errorText } from './session.js';

interface RuleForm {
  id: string;
  origins: string;
  methods: string[];
  headers: string;
  expose: string;
  maxAge: string;
}

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];
type Field = 'origins' | 'methods' | 'headers' | 'expose' | 'form';

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function toRule(form: RuleForm): CORSRule {
  return {
    ...(form.id.trim() === '' ? {} : { ID: form.id.trim() }),
    AllowedOrigins: lines(form.origins),
    AllowedMethods: form.methods,
    ...(lines(form.headers).length > 0 ? { AllowedHeaders: lines(form.headers) } : {}),
    ...(lines(form.expose).length > 0 ? { ExposeHeaders: lines(form.expose) } : {}),
    ...(form.maxAge.trim() === '' ? {} : { MaxAgeSeconds: Number(form.maxAge) }),
  };
}

function toForm(rule: CORSRule): RuleForm {
  return {
    id: rule.ID ?? '',
    origins: (rule.AllowedOrigins ?? []).join('\n'),
    methods: rule.AllowedMethods ?? [],
    headers: (rule.AllowedHeaders ?? []).join('\n'),
    expose: (rule.ExposeHeaders ?? []).join('\n'),
    maxAge: rule.MaxAgeSeconds === undefined ? '' : String(rule.MaxAgeSeconds),
  };
}

const EMPTY: RuleForm = {
  id: '',
  origins: '',
  methods: ['GET'],
  headers: '',
  expose: '',
  maxAge: '',
};

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The document PutBucketCors sends for `rules` (what the XML view shows). */
function corsXml(rules: CORSRule[]): string {
  const element = (name: string, values: readonly (string | number)[] | undefined) =>
    (values ?? []).map((value) => `    <${name}>${escapeXml(String(value))}</${name}>\n`).join('');
  return `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n${rules
    .map(
      (rule) =>
        `  <CORSRule>\n${element('ID', rule.ID === undefined ? [] : [rule.ID])}${element('AllowedOrigin', rule.AllowedOrigins)}${element('AllowedMethod', rule.AllowedMethods)}${element('AllowedHeader', rule.AllowedHeaders)}${element('ExposeHeader', rule.ExposeHeaders)}${element('MaxAgeSeconds', rule.MaxAgeSeconds === undefined ? [] : [rule.MaxAgeSeconds])}  </CORSRule>\n`,
    )
    .join('')}</CORSConfiguration>`;
}

/** Which field an S3 validation message is about. */
function fieldOf(message: string): Field {
  if (message.includes('AllowedOrigin')) return 'origins';
  if (message.includes('AllowedHeader')) return 'headers';
  if (message.includes('ExposeHeader')) return 'expose';
  if (message.includes('method')) return 'methods';
  return 'form';
}

export function BucketSettings({ s3, session, bucket }: PageProps & { bucket: string }) {
  const [rules, setRules] = useState<RuleForm[]>([]);
  const [problem, setProblem] = useState<{ rule: number; field: Field; text: string } | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  // The form waits for the stored rules: rules added before they came would be overwritten.
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    if (s3 === null) return;
    s3.send(new GetBucketCorsCommand({ Bucket: bucket })).then(
      (got) => {
        setRules((got.CORSRules ?? []).map(toForm));
        setLoaded(true);
      },
      (caught: { name?: string }) => {
        setLoaded(true);
        if (caught.name !== 'NoSuchCORSConfiguration') {
          setProblem({ rule: -1, field: 'form', text: errorText(caught) });
        }
      },
    );
  }, [s3, bucket]);

  if (s3 === null) {
    return (
      <section aria-labelledby="settings-title">
        <h1 id="settings-title">{bucket} / settings</h1>
        {session.adminToken !== null && (
          <OperatorSettings token={session.adminToken} bucket={bucket} />
        )}
        <p role="alert">Bucket settings need S3 keys.</p>
      </section>
    );
  }

  const update = (index: number, change: Partial<RuleForm>) => {
    setSaved(null);
    setRules(rules.map((rule, i) => (i === index ? { ...rule, ...change } : rule)));
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    setSaved(null);
    try {
      if (rules.length === 0) await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
      else {
        await s3.send(
          new PutBucketCorsCommand({
            Bucket: bucket,
            CORSConfiguration: { CORSRules: rules.map(toRule) },
          }),
        );
      }
      setSaved('CORS configuration saved');
    } catch (caught) {
      const text = errorText(caught);
      const message = (caught as Error).message ?? '';
      // The rule the message quotes (an origin or header value), else the first.
      const rule = Math.max(
        0,
        rules.findIndex((r) =>
          [r.origins, r.headers, r.expose].some((v) =>
            lines(v).some((l) => message.includes(`"${l}"`)),
          ),
        ),
      );
      setProblem({ rule, field: fieldOf(message), text });
    }
  };

  const errorOf = (index: number, field: Field) =>
    problem !== null && problem.rule === index && problem.field === field
      ? { id: `cors-${index}-${field}-error`, text: problem.text }
      : null;
  const fieldError = (index: number, field: Field) => {
    const error = errorOf(index, field);
    return error === null ? null : (
      <p class="error field-error" role="alert" id={error.id}>
        {error.text}
      </p>
    );
  };

  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">
        <a href="#/buckets">Buckets</a> /{' '}
        <a href={`#/buckets/${encodeURIComponent(bucket)}`}>{bucket}</a> / settings
      </h1>
      <div class="split">
        <form class="card" onSubmit={save} aria-labelledby="cors-title">
          <h2 id="cors-title">CORS rules</h2>
          {rules.length === 0 && <p>No CORS rules: browsers on other origins are refused.</p>}
          {rules.map((rule, index) => (
            <fieldset key={index} class="rule" data-rule={index}>
              <legend>Rule {index + 1}</legend>
              <label>
                ID
                <input
                  name="id"
                  value={rule.id}
                  onInput={(e) => update(index, { id: e.currentTarget.value })}
                />
              </label>
              <LinesField
                label="Allowed origins (one a line)"
                name="origins"
                value={rule.origins}
                error={errorOf(index, 'origins')}
                onInput={(value) => update(index, { origins: value })}
              />
              <fieldset class="methods">
                <legend>Allowed methods</legend>
                {METHODS.map((method) => (
                  <label key={method}>
                    <input
                      type="checkbox"
                      name={`method-${method}`}
                      checked={rule.methods.includes(method)}
                      onChange={(e) =>
                        update(index, {
                          methods: e.currentTarget.checked
                            ? [...rule.methods, method]
                            : rule.methods.filter((m) => m !== method),
                        })
                      }
                    />
                    {method}
                  </label>
                ))}
              </fieldset>
              {fieldError(index, 'methods')}
              <LinesField
                label="Allowed headers (one a line)"
                name="headers"
                value={rule.headers}
                error={errorOf(index, 'headers')}
                onInput={(value) => update(index, { headers: value })}
              />
              <LinesField
                label="Exposed headers (one a line)"
                name="expose"
                value={rule.expose}
                error={errorOf(index, 'expose')}
                onInput={(value) => update(index, { expose: value })}
              />
              <label>
                Max age (seconds)
                <input
                  name="maxAge"
                  inputMode="numeric"
                  value={rule.maxAge}
                  onInput={(e) => update(index, { maxAge: e.currentTarget.value })}
                />
              </label>
              <button type="button" onClick={() => setRules(rules.filter((_, i) => i !== index))}>
                Remove rule {index + 1}
              </button>
            </fieldset>
          ))}
          {problem?.field === 'form' && (
            <p class="error" role="alert">
              {problem.text}
            </p>
          )}
          <div class="row">
            <button
              type="button"
              disabled={!loaded}
              onClick={() => setRules([...rules, { ...EMPTY }])}
            >
              Add rule
            </button>
            <button type="submit">Save CORS</button>
            {saved !== null && <span role="status">{saved}</span>}
          </div>
        </form>
        <div class="card">
          <h2>XML</h2>
          <pre class="xml" data-xml="cors">
            {corsXml(rules.map(toRule))}
          </pre>
        </div>
      </div>
      <BucketProtection s3={s3} bucket={bucket} />
      {session.adminToken !== null && (
        <OperatorSettings token={session.adminToken} bucket={bucket} />
      )}
      <BucketDocuments s3={s3} bucket={bucket} />
    </section>
  );
}

/** What only the admin API sets: quotas and global aliases. */
function OperatorSettings({ token, bucket }: { token: string; bucket: string }) {
  return (
    <>
      <BucketQuotas token={token} bucket={bucket} />
      <BucketAliases token={token} bucket={bucket} />
    </>
  );
}

/** A textarea of one value a line, with S3's error about it under it (and tied to it). */
function LinesField(props: {
  label: string;
  name: string;
  value: string;
  error: { id: string; text: string } | null;
  onInput: (value: string) => void;
}) {
  const { label, name, value, error, onInput } = props;
  return (
    <>
      <label>
        {label}
        <textarea
          name={name}
          rows={2}
          value={value}
          aria-invalid={error !== null}
          aria-describedby={error?.id}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      </label>
      {error !== null && (
        <p class="error field-error" role="alert" id={error.id}>
          {error.text}
        </p>
      )}
    </>
  );
}
