// A bucket's static website as a form on the shared configuration base: either documents served
// from the bucket (index suffix, error key, routing rules as rows) or every request redirected
// to another host, the two S3 keeps apart; the XML S3 stores beside it, and PutBucketWebsite's
// refusal shown at the field (and rule) it names.
import {
  DeleteBucketWebsiteCommand,
  GetBucketWebsiteCommand,
  type GetBucketWebsiteCommandOutput,
  PutBucketWebsiteCommand,
  type RoutingRule,
  type S3Client,
  type WebsiteConfiguration,
} from '@aws-sdk/client-s3';
import {
  FieldError,
  type FieldProblem,
  FormFooter,
  FormWithXml,
  type Problem,
  problemAt,
  type Refusal,
  SelectField,
  TextField,
  useStoredConfig,
  type XmlElement,
  xmlDocument,
  xmlElement,
  xmlOptional,
} from './config-form.js';

interface RuleForm {
  keyPrefixEquals: string;
  httpErrorCode: string;
  protocol: string;
  hostName: string;
  replaceKeyPrefixWith: string;
  replaceKeyWith: string;
  httpRedirectCode: string;
}
type RuleField = keyof RuleForm;

interface WebsiteForm {
  /** S3 takes either documents (index, error, rules) or a redirect of everything, not both. */
  mode: 'documents' | 'redirect';
  indexSuffix: string;
  errorKey: string;
  redirectHost: string;
  redirectProtocol: string;
  rules: RuleForm[];
}

/** The entry number of the website's own fields (rules are 0, 1, ...; -1 is the form). */
const SITE = -2;

const EMPTY_RULE: RuleForm = {
  keyPrefixEquals: '',
  httpErrorCode: '',
  protocol: '',
  hostName: '',
  replaceKeyPrefixWith: '',
  replaceKeyWith: '',
  httpRedirectCode: '',
};
const EMPTY: WebsiteForm = {
  mode: 'documents',
  indexSuffix: 'index.html',
  errorKey: '',
  redirectHost: '',
  redirectProtocol: '',
  rules: [],
};
const PROTOCOLS = [
  ['', 'As requested'],
  ['http', 'http'],
  ['https', 'https'],
] as const;

/** An empty field is an absent element. */
function given(text: string): string | undefined {
  return text === '' ? undefined : text;
}

function formOf(stored: GetBucketWebsiteCommandOutput): WebsiteForm {
  const rules = (stored.RoutingRules ?? []).map(
    (rule): RuleForm => ({
      keyPrefixEquals: rule.Condition?.KeyPrefixEquals ?? '',
      httpErrorCode: rule.Condition?.HttpErrorCodeReturnedEquals ?? '',
      protocol: rule.Redirect?.Protocol ?? '',
      hostName: rule.Redirect?.HostName ?? '',
      replaceKeyPrefixWith: rule.Redirect?.ReplaceKeyPrefixWith ?? '',
      replaceKeyWith: rule.Redirect?.ReplaceKeyWith ?? '',
      httpRedirectCode: rule.Redirect?.HttpRedirectCode ?? '',
    }),
  );
  const all = stored.RedirectAllRequestsTo;
  return {
    mode: all === undefined ? 'documents' : 'redirect',
    indexSuffix: stored.IndexDocument?.Suffix ?? '',
    errorKey: stored.ErrorDocument?.Key ?? '',
    redirectHost: all?.HostName ?? '',
    redirectProtocol: all?.Protocol ?? '',
    rules,
  };
}

function ruleOf(rule: RuleForm): RoutingRule {
  const condition = {
    KeyPrefixEquals: given(rule.keyPrefixEquals),
    HttpErrorCodeReturnedEquals: given(rule.httpErrorCode),
  };
  const hasCondition = Object.values(condition).some((value) => value !== undefined);
  return {
    ...(hasCondition ? { Condition: condition } : {}),
    Redirect: {
      Protocol: given(rule.protocol) as 'http' | 'https' | undefined,
      HostName: given(rule.hostName),
      ReplaceKeyPrefixWith: given(rule.replaceKeyPrefixWith),
      ReplaceKeyWith: given(rule.replaceKeyWith),
      HttpRedirectCode: given(rule.httpRedirectCode),
    },
  };
}

/** What PutBucketWebsite sends: only the chosen side; an empty index suffix S3 refuses. */
function configurationOf(form: WebsiteForm): WebsiteConfiguration {
  if (form.mode === 'redirect') {
    return {
      RedirectAllRequestsTo: {
        HostName: form.redirectHost,
        Protocol: given(form.redirectProtocol) as 'http' | 'https' | undefined,
      },
    };
  }
  return {
    IndexDocument: { Suffix: form.indexSuffix },
    ...(form.errorKey === '' ? {} : { ErrorDocument: { Key: form.errorKey } }),
    ...(form.rules.length === 0 ? {} : { RoutingRules: form.rules.map(ruleOf) }),
  };
}

function ruleXml(rule: RuleForm): XmlElement {
  const condition = [
    xmlOptional('KeyPrefixEquals', given(rule.keyPrefixEquals)),
    xmlOptional('HttpErrorCodeReturnedEquals', given(rule.httpErrorCode)),
  ];
  return xmlElement('RoutingRule', [
    condition.some((element) => element !== null) ? xmlElement('Condition', condition) : null,
    xmlElement('Redirect', [
      xmlOptional('HostName', given(rule.hostName)),
      xmlOptional('HttpRedirectCode', given(rule.httpRedirectCode)),
      xmlOptional('Protocol', given(rule.protocol)),
      xmlOptional('ReplaceKeyPrefixWith', given(rule.replaceKeyPrefixWith)),
      xmlOptional('ReplaceKeyWith', given(rule.replaceKeyWith)),
    ]),
  ]);
}

function websiteXml(form: WebsiteForm): string {
  if (form.mode === 'redirect') {
    return xmlDocument(
      xmlElement('WebsiteConfiguration', [
        xmlElement('RedirectAllRequestsTo', [
          xmlElement('HostName', form.redirectHost),
          xmlOptional('Protocol', given(form.redirectProtocol)),
        ]),
      ]),
    );
  }
  return xmlDocument(
    xmlElement('WebsiteConfiguration', [
      xmlElement('IndexDocument', [xmlElement('Suffix', form.indexSuffix)]),
      form.errorKey === '' ? null : xmlElement('ErrorDocument', [xmlElement('Key', form.errorKey)]),
      form.rules.length === 0 ? null : xmlElement('RoutingRules', form.rules.map(ruleXml)),
    ]),
  );
}

/** S3's ArgumentName for a routing rule's field (its error names the value, not the rule). */
const RULE_ARGUMENTS: Record<string, RuleField> = {
  HttpErrorCodeReturnedEquals: 'httpErrorCode',
  KeyPrefixEquals: 'keyPrefixEquals',
  HostName: 'hostName',
  Protocol: 'protocol',
  ReplaceKeyPrefixWith: 'replaceKeyPrefixWith',
  ReplaceKeyWith: 'replaceKeyWith',
  HttpRedirectCode: 'httpRedirectCode',
};

function placeRuleProblem(rules: readonly RuleForm[], refusal: Refusal) {
  const argument = refusal.field('ArgumentName');
  const value = refusal.field('ArgumentValue');
  if (argument === 'Redirect') {
    const empty = rules.findIndex((rule) =>
      Object.values(ruleOf(rule).Redirect ?? {}).every((v) => v === undefined),
    );
    return { entry: Math.max(0, empty), field: 'redirect' };
  }
  const field = RULE_ARGUMENTS[argument];
  if (field === undefined) return { entry: -1, field: 'form' };
  const entry = rules.findIndex((rule) => rule[field] === value);
  return entry < 0 ? { entry: -1, field: 'form' } : { entry, field };
}

/** The field PutBucketWebsite's InvalidArgument is about, by its ArgumentName. */
function placeWebsiteProblem(form: WebsiteForm, refusal: Refusal): Omit<Problem, 'text'> {
  if (refusal.code !== 'InvalidArgument') return { entry: -1, field: 'form' };
  const argument = refusal.field('ArgumentName');
  if (argument === 'IndexDocument') return { entry: SITE, field: 'indexSuffix' };
  if (argument === 'ErrorDocument') return { entry: SITE, field: 'errorKey' };
  if (form.mode === 'redirect') {
    if (argument === 'Protocol') return { entry: SITE, field: 'redirectProtocol' };
    return { entry: SITE, field: 'redirectHost' };
  }
  return placeRuleProblem(form.rules, refusal);
}

export function BucketWebsite({ s3, bucket }: { s3: S3Client; bucket: string }) {
  const {
    value: form,
    update,
    loaded,
    problem,
    saved,
    save,
    clear,
  } = useStoredConfig<WebsiteForm>(
    async () => formOf(await s3.send(new GetBucketWebsiteCommand({ Bucket: bucket }))),
    'NoSuchWebsiteConfiguration',
    EMPTY,
    [s3, bucket],
  );
  const edit = (change: Partial<WebsiteForm>) => update({ ...form, ...change });
  const editRule = (index: number, change: Partial<RuleForm>) =>
    edit({ rules: form.rules.map((rule, i) => (i === index ? { ...rule, ...change } : rule)) });
  const site = (field: string) => problemAt(problem, 'website', SITE, field);
  const submit = (event: Event) => {
    event.preventDefault();
    void save(
      () =>
        s3.send(
          new PutBucketWebsiteCommand({
            Bucket: bucket,
            WebsiteConfiguration: configurationOf(form),
          }),
        ),
      'Website saved',
      (refusal) => placeWebsiteProblem(form, refusal),
    );
  };
  const removeWebsite = () =>
    void clear(
      () => s3.send(new DeleteBucketWebsiteCommand({ Bucket: bucket })),
      'Website removed',
    );

  return (
    <FormWithXml id="website" title="Website" xml={websiteXml(form)} onSubmit={submit}>
      <fieldset class="plain modes">
        <legend>What the website endpoint does</legend>
        <label>
          <input
            type="radio"
            name="website-mode"
            checked={form.mode === 'documents'}
            onChange={() => edit({ mode: 'documents' })}
          />
          Serve this bucket's objects
        </label>
        <label>
          <input
            type="radio"
            name="website-mode"
            checked={form.mode === 'redirect'}
            onChange={() => edit({ mode: 'redirect' })}
          />
          Redirect every request to another host
        </label>
      </fieldset>
      {form.mode === 'redirect' ? (
        <div class="inline">
          <TextField
            label="Redirect to host name"
            name="redirectHost"
            value={form.redirectHost}
            error={site('redirectHost')}
            onInput={(redirectHost) => edit({ redirectHost })}
          />
          <SelectField
            id="website-redirect-protocol"
            label="Redirect protocol"
            name="redirectProtocol"
            value={form.redirectProtocol}
            options={PROTOCOLS}
            error={site('redirectProtocol')}
            onChange={(redirectProtocol) => edit({ redirectProtocol })}
          />
        </div>
      ) : (
        <>
          <div class="inline">
            <TextField
              label="Index document suffix"
              name="indexSuffix"
              value={form.indexSuffix}
              error={site('indexSuffix')}
              onInput={(indexSuffix) => edit({ indexSuffix })}
            />
            <TextField
              label="Error document key (empty: none)"
              name="errorKey"
              value={form.errorKey}
              error={site('errorKey')}
              onInput={(errorKey) => edit({ errorKey })}
            />
          </div>
          {form.rules.map((rule, index) => (
            <RoutingRuleFields
              key={index}
              index={index}
              rule={rule}
              errorOf={(field) => problemAt(problem, 'website-rule', index, field)}
              change={(change) => editRule(index, change)}
              remove={() => edit({ rules: form.rules.filter((_, i) => i !== index) })}
            />
          ))}
        </>
      )}
      <FormFooter problem={problem} saved={saved}>
        {form.mode === 'documents' && (
          <button
            type="button"
            disabled={!loaded}
            onClick={() => edit({ rules: [...form.rules, { ...EMPTY_RULE }] })}
          >
            Add routing rule
          </button>
        )}
        <button type="submit" disabled={!loaded}>
          Save website
        </button>
        <button type="button" disabled={!loaded} onClick={removeWebsite}>
          Delete website
        </button>
      </FormFooter>
    </FormWithXml>
  );
}

function RoutingRuleFields(props: {
  index: number;
  rule: RuleForm;
  errorOf: (field: string) => FieldProblem | null;
  change: (edit: Partial<RuleForm>) => void;
  remove: () => void;
}) {
  const { index, rule, errorOf, change, remove } = props;
  const text = (label: string, field: RuleField, numeric = false) => (
    <TextField
      label={label}
      name={field}
      value={rule[field]}
      numeric={numeric}
      error={errorOf(field)}
      onInput={(value) => change({ [field]: value })}
    />
  );
  return (
    <fieldset class="rule" data-routing-rule={index}>
      <legend>Routing rule {index + 1}</legend>
      <fieldset>
        <legend>Condition (empty: every request)</legend>
        <div class="inline">
          {text('Key prefix equals', 'keyPrefixEquals')}
          {text('HTTP error code returned equals', 'httpErrorCode', true)}
        </div>
      </fieldset>
      <fieldset>
        <legend>Redirect</legend>
        <FieldError error={errorOf('redirect')} />
        <div class="inline">
          <SelectField
            id={`website-rule-${index}-protocol`}
            label="Protocol"
            name="protocol"
            value={rule.protocol}
            options={PROTOCOLS}
            error={errorOf('protocol')}
            onChange={(protocol) => change({ protocol })}
          />
          {text('HTTP redirect code', 'httpRedirectCode', true)}
        </div>
        {text('Host name', 'hostName')}
        <div class="inline">
          {text('Replace key prefix with', 'replaceKeyPrefixWith')}
          {text('Replace key with', 'replaceKeyWith')}
        </div>
      </fieldset>
      <button type="button" onClick={remove}>
        Remove routing rule {index + 1}
      </button>
    </fieldset>
  );
}
