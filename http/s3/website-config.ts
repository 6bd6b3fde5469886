/**
 * Bucket website configuration: the stored form, its validation (PutBucketWebsite) and its XML
 * (GetBucketWebsite). Validation follows AWS: schema violations (unknown or repeated elements, a
 * missing HostName or Redirect) are MalformedXML; semantic problems are InvalidArgument with
 * AWS's messages.
 */
import { LIMITS } from '../../engine/limits.js';
import { S3Error } from './errors.js';
import { checkHeaderValue } from './header-values.js';
import { checkElements, parseXml, textOf, type XmlNode, type XmlValue } from './xml.js';

export type WebsiteProtocol = 'http' | 'https';

export interface WebsiteRedirect {
  hostName?: string;
  protocol?: WebsiteProtocol;
  replaceKeyPrefixWith?: string;
  replaceKeyWith?: string;
  /** '301', '302', ... (3XX but 300); absent: 301. */
  httpRedirectCode?: string;
}

export interface WebsiteRoutingRule {
  condition?: { keyPrefixEquals?: string; httpErrorCodeReturnedEquals?: string };
  redirect: WebsiteRedirect;
}

/** One bucket's website configuration as stored in the catalog (kind 'website'). */
export interface WebsiteConfig {
  indexSuffix?: string;
  errorKey?: string;
  redirectAll?: { hostName: string; protocol?: WebsiteProtocol };
  routingRules: WebsiteRoutingRule[];
}

function invalid(message: string, name?: string, value?: string): S3Error {
  const fields: Record<string, string> = {};
  if (name !== undefined) fields.ArgumentName = name;
  if (value !== undefined) fields.ArgumentValue = value;
  return new S3Error('InvalidArgument', message, fields);
}

/** A child element that must be a single element node (absent: undefined). */
function child(node: XmlNode, name: string): XmlNode | undefined {
  const value = node[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new S3Error('MalformedXML');
  if (typeof value === 'object') return value;
  // `<IndexDocument></IndexDocument>` parses as ''.
  if (textOf(value)?.trim() === '') return {};
  throw new S3Error('MalformedXML');
}

/** A child element that must be a single text node (absent: undefined). */
function text(node: XmlNode, name: string): string | undefined {
  const value = node[name];
  if (value === undefined) return undefined;
  const t = textOf(value);
  if (t === undefined) throw new S3Error('MalformedXML');
  return t;
}

function protocolOf(node: XmlNode): WebsiteProtocol | undefined {
  const value = text(node, 'Protocol');
  if (value === undefined) return undefined;
  if (value !== 'http' && value !== 'https') {
    throw invalid(
      'Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.',
      'Protocol',
      value,
    );
  }
  return value;
}

/** Parses and validates a WebsiteConfiguration document. */
export function parseWebsiteConfiguration(xml: string): WebsiteConfig {
  const doc = parseXml(xml, 'WebsiteConfiguration');
  checkElements(doc, ['RedirectAllRequestsTo', 'IndexDocument', 'ErrorDocument', 'RoutingRules']);
  const config: WebsiteConfig = { routingRules: [] };

  const redirectAll = child(doc, 'RedirectAllRequestsTo');
  if (redirectAll !== undefined) {
    checkElements(redirectAll, ['HostName', 'Protocol']);
    const hostName = text(redirectAll, 'HostName');
    if (hostName === undefined) throw new S3Error('MalformedXML');
    if (hostName.trim() === '') throw invalid('Invalid Argument', 'HostName', hostName);
    checkHeaderValue('HostName', hostName);
    const protocol = protocolOf(redirectAll);
    config.redirectAll = { hostName, ...(protocol === undefined ? {} : { protocol }) };
    if (
      doc['IndexDocument'] !== undefined ||
      doc['ErrorDocument'] !== undefined ||
      doc['RoutingRules'] !== undefined
    ) {
      throw invalid(
        'RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.',
        'RedirectAllRequestsTo',
      );
    }
    return config;
  }

  const index = child(doc, 'IndexDocument');
  if (index === undefined) {
    throw invalid(
      'A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty',
      'IndexDocument',
    );
  }
  checkElements(index, ['Suffix']);
  const suffix = text(index, 'Suffix');
  if (suffix === undefined || suffix === '' || suffix.includes('/')) {
    throw invalid('The IndexDocument Suffix is not well formed', 'IndexDocument', suffix ?? '');
  }
  config.indexSuffix = suffix;

  const error = child(doc, 'ErrorDocument');
  if (error !== undefined) {
    checkElements(error, ['Key']);
    const key = text(error, 'Key');
    if (key === undefined || key === '') {
      throw invalid('The ErrorDocument Key is not well formed', 'ErrorDocument', key ?? '');
    }
    config.errorKey = key;
  }

  const rules = child(doc, 'RoutingRules');
  if (rules !== undefined) {
    checkElements(rules, ['RoutingRule']);
    const list = listOf(rules['RoutingRule']);
    if (list.length === 0) throw new S3Error('MalformedXML');
    if (list.length > LIMITS.websiteRoutingRulesMax) {
      throw invalid(
        `The number of routing rules must not exceed the allowed limit of ${LIMITS.websiteRoutingRulesMax} rules.`,
        'RoutingRules',
      );
    }
    config.routingRules = list.map(parseRoutingRule);
  }
  return config;
}

function listOf(value: XmlValue): XmlValue[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function parseRoutingRule(value: XmlValue): WebsiteRoutingRule {
  if (typeof value !== 'object' || Array.isArray(value)) throw new S3Error('MalformedXML');
  checkElements(value, ['Condition', 'Redirect']);
  const rule: WebsiteRoutingRule = { redirect: {} };
  const condition = child(value, 'Condition');
  if (condition !== undefined) {
    checkElements(condition, ['KeyPrefixEquals', 'HttpErrorCodeReturnedEquals']);
    const keyPrefixEquals = text(condition, 'KeyPrefixEquals');
    const code = text(condition, 'HttpErrorCodeReturnedEquals');
    if (keyPrefixEquals === undefined && code === undefined) {
      throw invalid(
        "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.",
        'Condition',
      );
    }
    if (code !== undefined && !/^[45]\d\d$/.test(code)) {
      throw invalid(
        `The provided HTTP error code (${code}) is not valid. Valid codes are 4XX or 5XX.`,
        'HttpErrorCodeReturnedEquals',
        code,
      );
    }
    rule.condition = {
      ...(keyPrefixEquals === undefined ? {} : { keyPrefixEquals }),
      ...(code === undefined ? {} : { httpErrorCodeReturnedEquals: code }),
    };
  }
  const redirect = child(value, 'Redirect');
  if (redirect === undefined) throw new S3Error('MalformedXML');
  checkElements(redirect, [
    'HostName',
    'Protocol',
    'ReplaceKeyPrefixWith',
    'ReplaceKeyWith',
    'HttpRedirectCode',
  ]);
  const hostName = text(redirect, 'HostName');
  const protocol = protocolOf(redirect);
  const replaceKeyPrefixWith = text(redirect, 'ReplaceKeyPrefixWith');
  const replaceKeyWith = text(redirect, 'ReplaceKeyWith');
  const httpRedirectCode = text(redirect, 'HttpRedirectCode');
  // Each ends up in the Location header of a redirect served to anonymous visitors.
  for (const [name, value] of [
    ['HostName', hostName],
    ['ReplaceKeyPrefixWith', replaceKeyPrefixWith],
    ['ReplaceKeyWith', replaceKeyWith],
  ] as const) {
    if (value !== undefined) checkHeaderValue(name, value);
  }
  if (replaceKeyPrefixWith !== undefined && replaceKeyWith !== undefined) {
    throw invalid(
      'You can only define ReplaceKeyPrefix or ReplaceKey but not both.',
      'ReplaceKeyPrefixWith',
      replaceKeyPrefixWith,
    );
  }
  if (httpRedirectCode !== undefined && !/^3(0[1-9]|[1-9]\d)$/.test(httpRedirectCode)) {
    throw invalid(
      `The provided HTTP redirect code (${httpRedirectCode}) is not valid. Valid codes are 3XX except 300.`,
      'HttpRedirectCode',
      httpRedirectCode,
    );
  }
  if (
    hostName === undefined &&
    protocol === undefined &&
    replaceKeyPrefixWith === undefined &&
    replaceKeyWith === undefined &&
    httpRedirectCode === undefined
  ) {
    throw invalid(
      'Redirect must contain at least one of HostName, Protocol, ReplaceKeyPrefixWith, ReplaceKeyWith or HttpRedirectCode.',
      'Redirect',
    );
  }
  rule.redirect = {
    ...(hostName === undefined ? {} : { hostName }),
    ...(protocol === undefined ? {} : { protocol }),
    ...(replaceKeyPrefixWith === undefined ? {} : { replaceKeyPrefixWith }),
    ...(replaceKeyWith === undefined ? {} : { replaceKeyWith }),
    ...(httpRedirectCode === undefined ? {} : { httpRedirectCode }),
  };
  return rule;
}

/** The body of a GetBucketWebsite answer, in AWS's element order. */
export function websiteConfigXml(config: WebsiteConfig): XmlNode {
  return {
    RedirectAllRequestsTo:
      config.redirectAll === undefined
        ? undefined
        : { HostName: config.redirectAll.hostName, Protocol: config.redirectAll.protocol },
    IndexDocument: config.indexSuffix === undefined ? undefined : { Suffix: config.indexSuffix },
    ErrorDocument: config.errorKey === undefined ? undefined : { Key: config.errorKey },
    RoutingRules:
      config.routingRules.length === 0
        ? undefined
        : {
            RoutingRule: config.routingRules.map((rule) => ({
              Condition:
                rule.condition === undefined
                  ? undefined
                  : {
                      HttpErrorCodeReturnedEquals: rule.condition.httpErrorCodeReturnedEquals,
                      KeyPrefixEquals: rule.condition.keyPrefixEquals,
                    },
              Redirect: {
                HostName: rule.redirect.hostName,
                HttpRedirectCode: rule.redirect.httpRedirectCode,
                Protocol: rule.redirect.protocol,
                ReplaceKeyPrefixWith: rule.redirect.replaceKeyPrefixWith,
                ReplaceKeyWith: rule.redirect.replaceKeyWith,
              },
            })),
          },
  };
}
