// A bucket's default encryption (PutBucketEncryption) as a form on the shared configuration
// base: SSE-S3 or SSE-KMS, the KMS key chosen from the admin API's key list when the session is
// an operator's (typed otherwise: a bucket user cannot list keys), and the bucket key switch;
// the XML S3 stores beside it and S3's refusal at the field it names.
import {
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  PutBucketEncryptionCommand,
  type S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { useEffect, useState } from 'preact/hooks';
import {
  FormFooter,
  FormWithXml,
  type Problem,
  problemAt,
  type Refusal,
  SelectField,
  TextField,
  useStoredConfig,
  xmlDocument,
  xmlElement,
  xmlOptional,
} from './config-form.js';
import { adminCall } from './session.js';

interface EncryptionForm {
  algorithm: 'AES256' | 'aws:kms';
  /** Empty: the aws/s3 default key. */
  keyId: string;
  bucketKey: boolean;
}

/** A bucket with no configuration still encrypts with SSE-S3: the form starts there. */
const DEFAULT: EncryptionForm = { algorithm: 'AES256', keyId: '', bucketKey: false };
const ALGORITHMS = [
  ['AES256', 'SSE-S3 (keys managed by the server)'],
  ['aws:kms', 'SSE-KMS (a KMS key)'],
] as const;

interface KmsKey {
  id: string;
  arn: string;
  alias: string | null;
  state: string;
}

function encryptionXml(form: EncryptionForm): string {
  return xmlDocument(
    xmlElement('ServerSideEncryptionConfiguration', [
      xmlElement('Rule', [
        xmlElement('ApplyServerSideEncryptionByDefault', [
          xmlElement('SSEAlgorithm', form.algorithm),
          xmlOptional(
            'KMSMasterKeyID',
            form.algorithm === 'aws:kms' && form.keyId !== '' ? form.keyId : undefined,
          ),
        ]),
        xmlElement('BucketKeyEnabled', form.bucketKey),
      ]),
    ]),
  );
}

/** S3's InvalidArgument about the key (an empty or overlong id) names KMSMasterKeyID. */
function placeEncryptionProblem(refusal: Refusal): Omit<Problem, 'text'> {
  return refusal.field('ArgumentName') === 'KMSMasterKeyID'
    ? { entry: 0, field: 'keyId' }
    : { entry: -1, field: 'form' };
}

/** The keyring's usable keys, for an operator; null for a bucket user (the list is admin's). */
function useKmsKeys(token: string | null): KmsKey[] | null {
  const [keys, setKeys] = useState<KmsKey[] | null>(null);
  useEffect(() => {
    setKeys(null);
    if (token === null) return;
    adminCall<KmsKey[]>(token, 'ListKmsKeys').then(
      (all) => setKeys(all.filter((key) => key.state === 'Enabled')),
      // Without the list the key id is typed, as a bucket user types it.
      () => setKeys(null),
    );
  }, [token]);
  return keys;
}

export function BucketEncryption(props: {
  s3: S3Client;
  bucket: string;
  adminToken: string | null;
}) {
  const { s3, bucket, adminToken } = props;
  const keys = useKmsKeys(adminToken);
  const {
    value: form,
    update,
    loaded,
    problem,
    saved,
    save,
    clear,
  } = useStoredConfig<EncryptionForm>(
    async () => {
      const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
      const rule = got.ServerSideEncryptionConfiguration?.Rules?.[0];
      const apply = rule?.ApplyServerSideEncryptionByDefault;
      return {
        algorithm: apply?.SSEAlgorithm === 'aws:kms' ? 'aws:kms' : 'AES256',
        keyId: apply?.KMSMasterKeyID ?? '',
        bucketKey: rule?.BucketKeyEnabled ?? false,
      };
    },
    'ServerSideEncryptionConfigurationNotFoundError',
    DEFAULT,
    [s3, bucket],
  );
  const edit = (change: Partial<EncryptionForm>) => update({ ...form, ...change });
  const keyError = problemAt(problem, 'encryption', 0, 'keyId');
  const submit = (event: Event) => {
    event.preventDefault();
    const kms = form.algorithm === 'aws:kms';
    void save(
      () =>
        s3.send(
          new PutBucketEncryptionCommand({
            Bucket: bucket,
            ServerSideEncryptionConfiguration: {
              Rules: [
                {
                  ApplyServerSideEncryptionByDefault: {
                    SSEAlgorithm: form.algorithm as ServerSideEncryption,
                    ...(kms && form.keyId !== '' ? { KMSMasterKeyID: form.keyId } : {}),
                  },
                  BucketKeyEnabled: form.bucketKey,
                },
              ],
            },
          }),
        ),
      'Encryption saved',
      placeEncryptionProblem,
    );
  };
  const reset = () =>
    void clear(
      () => s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket })),
      'Encryption reset to SSE-S3',
    );
  // A stored key the list lacks (disabled, or named by alias) is still shown as chosen.
  const keyOptions = (list: KmsKey[]) => [
    ['', 'aws/s3 (the default key)'] as const,
    ...list.map((key) => [key.arn, key.alias ?? key.id] as const),
    ...(form.keyId !== '' && !list.some((key) => key.arn === form.keyId)
      ? [[form.keyId, form.keyId] as const]
      : []),
  ];

  return (
    <FormWithXml
      id="encryption"
      title="Default encryption"
      xml={encryptionXml(form)}
      onSubmit={submit}
    >
      <SelectField
        id="encryption-algorithm"
        label="Encryption type"
        name="algorithm"
        value={form.algorithm}
        options={ALGORITHMS}
        onChange={(algorithm) => edit({ algorithm: algorithm as EncryptionForm['algorithm'] })}
      />
      {form.algorithm === 'aws:kms' &&
        (keys === null ? (
          <TextField
            label="KMS key ID or ARN (empty: aws/s3)"
            name="keyId"
            value={form.keyId}
            error={keyError}
            onInput={(keyId) => edit({ keyId })}
          />
        ) : (
          <SelectField
            id="encryption-key"
            label="KMS key"
            name="keyId"
            value={form.keyId}
            options={keyOptions(keys)}
            error={keyError}
            onChange={(keyId) => edit({ keyId })}
          />
        ))}
      <label>
        <input
          type="checkbox"
          name="bucketKey"
          checked={form.bucketKey}
          onChange={(e) => edit({ bucketKey: e.currentTarget.checked })}
        />{' '}
        Bucket key enabled
      </label>
      <FormFooter problem={problem} saved={saved}>
        <button type="submit" disabled={!loaded}>
          Save encryption
        </button>
        <button type="button" disabled={!loaded} onClick={reset}>
          Delete encryption configuration
        </button>
      </FormFooter>
    </FormWithXml>
  );
}
