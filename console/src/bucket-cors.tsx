// A bucket's CORS rules edited as a form, the XML S3 stores beside it, and S3's validation
// errors (PutBucketCors answers them) shown at the field they are about.
import {
  type CORSRule,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  FieldError,
  FormFooter,
  FormWithXml,
  LinesField,
  lines,
  problemAt,
  TextField,
  useStoredList,
  xmlDocument,
  xmlElement,
  xmlElements,
  xmlOptional,
} from './config-form.js';

interface RuleForm {
  id: string;
  origins: string;
  methods: string[];
  headers: string;
  expose: string;
  maxAge: string;
}

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

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

/** The document PutBucketCors sends for `rules` (what the XML view shows). */
function corsXml(rules: CORSRule[]): string {
  return xmlDocument(
    xmlElement(
      'CORSConfiguration',
      rules.map((rule) =>
        xmlElement('CORSRule', [
          xmlOptional('ID', rule.ID),
          ...xmlElements('AllowedOrigin', rule.AllowedOrigins),
          ...xmlElements('AllowedMethod', rule.AllowedMethods),
          ...xmlElements('AllowedHeader', rule.AllowedHeaders),
          ...xmlElements('ExposeHeader', rule.ExposeHeaders),
          xmlOptional('MaxAgeSeconds', rule.MaxAgeSeconds),
        ]),
      ),
    ),
  );
}

/** Which field an S3 validation message is about. */
function fieldOf(message: string): string {
  if (message.includes('AllowedOrigin')) return 'origins';
  if (message.includes('AllowedHeader')) return 'headers';
  if (message.includes('ExposeHeader')) return 'expose';
  if (message.includes('method')) return 'methods';
  return 'form';
}

/** The rule S3's message is about: the one holding the value it quotes, else the first. */
function placeProblem(rules: RuleForm[], message: string) {
  const field = fieldOf(message);
  if (field === 'form') return { entry: -1, field };
  const entry = rules.findIndex((r) =>
    [r.origins, r.headers, r.expose].some((v) => lines(v).some((l) => message.includes(`"${l}"`))),
  );
  return { entry: Math.max(0, entry), field };
}

export function BucketCors({ s3, bucket }: { s3: S3Client; bucket: string }) {
  const {
    entries: rules,
    change,
    remove,
    add,
    loaded,
    problem,
    saved,
    save,
  } = useStoredList<RuleForm>(
    async () =>
      ((await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? []).map(toForm),
    'NoSuchCORSConfiguration',
    [s3, bucket],
  );
  const submit = (event: Event) => {
    event.preventDefault();
    void save(
      () =>
        rules.length === 0
          ? s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }))
          : s3.send(
              new PutBucketCorsCommand({
                Bucket: bucket,
                CORSConfiguration: { CORSRules: rules.map(toRule) },
              }),
            ),
      'CORS configuration saved',
      ({ message }) => placeProblem(rules, message),
    );
  };
  const errorOf = (index: number, field: string) => problemAt(problem, 'cors', index, field);

  return (
    <FormWithXml id="cors" title="CORS rules" xml={corsXml(rules.map(toRule))} onSubmit={submit}>
      {rules.length === 0 && <p>No CORS rules: browsers on other origins are refused.</p>}
      {rules.map((rule, index) => (
        <fieldset key={index} class="rule" data-rule={index}>
          <legend>Rule {index + 1}</legend>
          <TextField label="ID" name="id" value={rule.id} onInput={(id) => change(index, { id })} />
          <LinesField
            label="Allowed origins (one a line)"
            name="origins"
            value={rule.origins}
            error={errorOf(index, 'origins')}
            onInput={(origins) => change(index, { origins })}
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
                    change(index, {
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
          <FieldError error={errorOf(index, 'methods')} />
          <LinesField
            label="Allowed headers (one a line)"
            name="headers"
            value={rule.headers}
            error={errorOf(index, 'headers')}
            onInput={(headers) => change(index, { headers })}
          />
          <LinesField
            label="Exposed headers (one a line)"
            name="expose"
            value={rule.expose}
            error={errorOf(index, 'expose')}
            onInput={(expose) => change(index, { expose })}
          />
          <TextField
            label="Max age (seconds)"
            name="maxAge"
            numeric
            value={rule.maxAge}
            onInput={(maxAge) => change(index, { maxAge })}
          />
          <button type="button" onClick={() => remove(index)}>
            Remove rule {index + 1}
          </button>
        </fieldset>
      ))}
      <FormFooter problem={problem} saved={saved}>
        <button type="button" disabled={!loaded} onClick={() => add({ ...EMPTY })}>
          Add rule
        </button>
        <button type="submit">Save CORS</button>
      </FormFooter>
    </FormWithXml>
  );
}
