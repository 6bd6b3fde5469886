// A bucket's lifecycle rules edited as a form (ID, status, filter, expiration, noncurrent
// version expiration, aborting incomplete uploads), the XML S3 stores beside it, and S3's
// validation error (PutBucketLifecycleConfiguration answers it) shown at the field it is about.
import {
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  FieldError,
  type FieldProblem,
  FormFooter,
  FormWithXml,
  invalidIf,
  LinesField,
  problemAt,
  SelectField,
  TextField,
  useStoredList,
} from './config-form.js';
import {
  EMPTY_RULE,
  type ExpirationKind,
  type LifecycleField,
  type LifecycleForm,
  lifecycleXml,
  placeLifecycleProblem,
  toForm,
  toRule,
  unsendableDate,
} from './lifecycle-rules.js';

const STATUSES = [
  ['Enabled', 'Enabled'],
  ['Disabled', 'Disabled'],
] as const;
const EXPIRATIONS: ReadonlyArray<[ExpirationKind, string]> = [
  ['none', 'Never'],
  ['days', 'After a number of days'],
  ['date', 'On a date'],
  ['marker', 'Expired delete markers'],
];

export function BucketLifecycle({ s3, bucket }: { s3: S3Client; bucket: string }) {
  const {
    entries: rules,
    change,
    remove,
    add,
    loaded,
    problem,
    saved,
    save,
  } = useStoredList<LifecycleForm>(
    async () =>
      (
        (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? []
      ).map(toForm),
    'NoSuchLifecycleConfiguration',
    [s3, bucket],
  );
  const submit = (event: Event) => {
    event.preventDefault();
    void save(
      async () => {
        if (rules.some(unsendableDate)) throw new Error('Date: pick the day the objects expire');
        if (rules.length === 0) {
          return s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
        }
        return s3.send(
          new PutBucketLifecycleConfigurationCommand({
            Bucket: bucket,
            LifecycleConfiguration: { Rules: rules.map(toRule) },
          }),
        );
      },
      'Lifecycle saved',
      ({ message }) => placeLifecycleProblem(rules, message),
    );
  };

  return (
    <FormWithXml
      id="lifecycle"
      title="Lifecycle rules"
      xml={lifecycleXml(rules.map(toRule))}
      onSubmit={submit}
    >
      {loaded && rules.length === 0 && <p>No lifecycle rules: objects stay until deleted.</p>}
      {rules.map((rule, index) => (
        <RuleFields
          key={index}
          index={index}
          rule={rule}
          errorOf={(field) => problemAt(problem, 'lifecycle', index, field)}
          change={(edit) => change(index, edit)}
          remove={() => remove(index)}
        />
      ))}
      <FormFooter problem={problem} saved={saved}>
        <button type="button" disabled={!loaded} onClick={() => add({ ...EMPTY_RULE })}>
          Add lifecycle rule
        </button>
        <button type="submit" disabled={!loaded}>
          Save lifecycle
        </button>
      </FormFooter>
    </FormWithXml>
  );
}

/** "after 30 days: STANDARD_IA; noncurrent after 90 days: GLACIER", for the form to show. */
function transitionSummary(kept: NonNullable<LifecycleForm['transitions']>): string {
  const current = (kept.Transitions ?? []).map((t) =>
    t.Date !== undefined
      ? `on ${t.Date.toISOString().slice(0, 10)}: ${t.StorageClass}`
      : `after ${t.Days} days: ${t.StorageClass}`,
  );
  const noncurrent = (kept.NoncurrentVersionTransitions ?? []).map(
    (t) => `noncurrent after ${t.NoncurrentDays} days: ${t.StorageClass}`,
  );
  return [...current, ...noncurrent].join('; ');
}

function RuleFields(props: {
  index: number;
  rule: LifecycleForm;
  errorOf: (field: LifecycleField) => FieldProblem | null;
  change: (edit: Partial<LifecycleForm>) => void;
  remove: () => void;
}) {
  const { index, rule, errorOf, change, remove } = props;
  const expirationError = errorOf('expiration');
  const dateError = errorOf('expirationDate');
  return (
    <fieldset class="rule" data-lifecycle-rule={index}>
      <legend>Lifecycle rule {index + 1}</legend>
      <FieldError error={errorOf('actions')} />
      <div class="inline">
        <TextField
          label="ID"
          name="id"
          value={rule.id}
          error={errorOf('id')}
          onInput={(id) => change({ id })}
        />
        <SelectField
          id={`lifecycle-${index}-status`}
          label="Status"
          name="status"
          value={rule.status}
          options={STATUSES}
          onChange={(status) => change({ status: status as LifecycleForm['status'] })}
        />
      </div>
      <fieldset>
        <legend>Filter (empty: every object)</legend>
        <TextField
          label="Prefix"
          name="prefix"
          value={rule.prefix}
          onInput={(prefix) => change({ prefix })}
        />
        <LinesField
          label="Tags (key=value, one a line)"
          name="tags"
          value={rule.tags}
          error={errorOf('tags')}
          onInput={(tags) => change({ tags })}
        />
        <div class="inline">
          <TextField
            label="Size greater than (bytes)"
            name="sizeGreaterThan"
            numeric
            value={rule.sizeGreaterThan}
            error={errorOf('sizeGreaterThan')}
            onInput={(sizeGreaterThan) => change({ sizeGreaterThan })}
          />
          <TextField
            label="Size less than (bytes)"
            name="sizeLessThan"
            numeric
            value={rule.sizeLessThan}
            onInput={(sizeLessThan) => change({ sizeLessThan })}
          />
        </div>
      </fieldset>
      <fieldset>
        <legend>Expiration of current versions</legend>
        <SelectField
          id={`lifecycle-${index}-expiration`}
          label="Expire"
          name="expiration"
          value={rule.expiration}
          options={EXPIRATIONS}
          onChange={(expiration) => change({ expiration: expiration as ExpirationKind })}
        />
        {rule.expiration === 'days' && (
          <label>
            Days after creation
            <input
              name="expirationDays"
              inputMode="numeric"
              value={rule.expirationDays}
              {...invalidIf(expirationError)}
              onInput={(e) => change({ expirationDays: e.currentTarget.value })}
            />
          </label>
        )}
        {rule.expiration === 'date' && (
          <label>
            Expiration date (midnight UTC)
            <input
              name="expirationDate"
              type="date"
              value={rule.expirationDate}
              {...invalidIf(dateError)}
              onInput={(e) => change({ expirationDate: e.currentTarget.value })}
            />
          </label>
        )}
        <FieldError error={dateError} />
        <FieldError error={expirationError} />
      </fieldset>
      {rule.transitions !== undefined && (
        <p data-lifecycle-transitions={index}>
          Transitions (kept as they are; set them through the S3 API):{' '}
          {transitionSummary(rule.transitions)}
        </p>
      )}
      <fieldset>
        <legend>Noncurrent versions and uploads</legend>
        <div class="inline">
          <TextField
            label="Noncurrent versions expire after (days)"
            name="noncurrentDays"
            numeric
            value={rule.noncurrentDays}
            error={errorOf('noncurrentDays')}
            onInput={(noncurrentDays) => change({ noncurrentDays })}
          />
          <TextField
            label="Newer noncurrent versions kept"
            name="newerVersions"
            numeric
            value={rule.newerVersions}
            error={errorOf('newerVersions')}
            onInput={(newerVersions) => change({ newerVersions })}
          />
          <TextField
            label="Abort incomplete uploads after (days)"
            name="abortDays"
            numeric
            value={rule.abortDays}
            error={errorOf('abortDays')}
            onInput={(abortDays) => change({ abortDays })}
          />
        </div>
      </fieldset>
      <button type="button" onClick={remove}>
        Remove lifecycle rule {index + 1}
      </button>
    </fieldset>
  );
}
