// A bucket's tags edited as key/value rows (add, remove), the XML S3 stores beside them, and
// S3's validation error (PutBucketTagging answers it) shown at the row and field it is about.
import {
  DeleteBucketTaggingCommand,
  GetBucketTaggingCommand,
  PutBucketTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import {
  FormFooter,
  FormWithXml,
  problemAt,
  type Refusal,
  TextField,
  useStoredList,
  xmlDocument,
  xmlElement,
} from './config-form.js';

interface TagRow {
  key: string;
  value: string;
}

function taggingXml(rows: readonly TagRow[]): string {
  return xmlDocument(
    xmlElement('Tagging', [
      xmlElement(
        'TagSet',
        rows.map((row) =>
          xmlElement('Tag', [xmlElement('Key', row.key), xmlElement('Value', row.value)]),
        ),
      ),
    ]),
  );
}

/**
 * The row S3's InvalidTag is about: the one with the TagKey its error document names (the
 * first, or for a repeated key the second), else the first.
 */
function placeTagProblem(rows: readonly TagRow[], refusal: Refusal) {
  if (refusal.code !== 'InvalidTag') return { entry: -1, field: 'form' };
  const field = refusal.message.includes('TagValue') ? 'value' : 'key';
  const key = refusal.field('TagKey');
  const first = rows.findIndex((row) => row.key === key);
  const repeated = rows.findIndex((row, index) => row.key === key && index > first);
  const entry = refusal.message.includes('same key') && repeated >= 0 ? repeated : first;
  return { entry: Math.max(0, entry), field };
}

export function BucketTagging({ s3, bucket }: { s3: S3Client; bucket: string }) {
  const {
    entries: rows,
    change,
    remove,
    add,
    loaded,
    problem,
    saved,
    save,
  } = useStoredList<TagRow>(
    async () =>
      ((await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet ?? []).map(
        (tag: Tag) => ({ key: tag.Key ?? '', value: tag.Value ?? '' }),
      ),
    'NoSuchTagSet',
    [s3, bucket],
  );
  const submit = (event: Event) => {
    event.preventDefault();
    void save(
      () =>
        rows.length === 0
          ? s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }))
          : s3.send(
              new PutBucketTaggingCommand({
                Bucket: bucket,
                Tagging: { TagSet: rows.map((row) => ({ Key: row.key, Value: row.value })) },
              }),
            ),
      'Tagging saved',
      (refusal) => placeTagProblem(rows, refusal),
    );
  };

  return (
    <FormWithXml id="tagging" title="Tags" xml={taggingXml(rows)} onSubmit={submit}>
      {loaded && rows.length === 0 && <p>No tags.</p>}
      {rows.map((row, index) => (
        <fieldset key={index} class="inline plain" data-tag={index}>
          <legend class="sr-only">Tag {index + 1}</legend>
          <TextField
            label={`Tag ${index + 1} key`}
            name="key"
            value={row.key}
            error={problemAt(problem, 'tag', index, 'key')}
            onInput={(key) => change(index, { key })}
          />
          <TextField
            label={`Tag ${index + 1} value`}
            name="value"
            value={row.value}
            error={problemAt(problem, 'tag', index, 'value')}
            onInput={(value) => change(index, { value })}
          />
          <button type="button" onClick={() => remove(index)}>
            Remove tag {index + 1}
          </button>
        </fieldset>
      ))}
      <FormFooter problem={problem} saved={saved}>
        <button type="button" disabled={!loaded} onClick={() => add({ key: '', value: '' })}>
          Add tag
        </button>
        <button type="submit" disabled={!loaded}>
          Save tags
        </button>
      </FormFooter>
    </FormWithXml>
  );
}
