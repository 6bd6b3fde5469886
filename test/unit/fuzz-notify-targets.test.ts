/**
 * Property tests of CreateNotifyTarget's input (engine/catalog/notify-targets.ts targetOfInput):
 * any name, URL and secret either become a valid target or fail with a NotifyTargetError (a 400
 * or 409 of the admin API), never another exception; what is accepted obeys the documented rules.
 */
import test from 'ava';
import fc from 'fast-check';
import { NotifyTargetError, targetOfInput } from '../../engine/catalog/notify-targets.js';
import { LIMITS } from '../../engine/limits.js';
import { check, mutatedText } from '../helpers/fuzz-props.js';

const VALID_URLS = [
  'http://127.0.0.1:8080/hook',
  'https://hooks.example.com/s3?x=1',
  'nats://127.0.0.1:4222/s3.events',
  'nats://user:p%40ss@127.0.0.1:4222/s3.events',
  'nats://tok3n@127.0.0.1:4222/s3.events',
];

const urls = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.constantFrom(...VALID_URLS),
  mutatedText(fc.constantFrom(...VALID_URLS)),
  fc.webUrl({ withFragments: true, withQueryParameters: true }),
);

function attempt(name: string, url: string, hmacSecret: string | undefined): void {
  try {
    const target = targetOfInput(
      { name, url, ...(hmacSecret === undefined ? {} : { hmacSecret }) },
      1,
    );
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(target.name)) throw new Error(`bad name ${target.name}`);
    if (target.kind === 'nats' && (target.subject === null || target.secret !== null)) {
      throw new Error('a NATS target has a subject and no secret');
    }
    if (target.kind === 'webhook' && !/^https?:\/\//.test(target.url)) {
      throw new Error(`a webhook URL is http(s): ${target.url}`);
    }
    if (target.url.includes('#')) throw new Error('a stored URL has no fragment');
    if (target.kind === 'nats' && target.url.includes('@')) {
      throw new Error(`a NATS URL keeps no credentials: ${target.url}`);
    }
    if (target.secret !== null && target.secret.length > LIMITS.notifyTargetSecretCharsMax) {
      throw new Error('secret over its bound');
    }
  } catch (error) {
    if (!(error instanceof NotifyTargetError)) throw error;
  }
}

test('any name, URL and secret: a valid target or a NotifyTargetError', (t) => {
  check(
    fc.property(
      fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('hook', 'bus_1', 'a-b')),
      urls,
      fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
      (name, url, secret) => attempt(name, url, secret),
    ),
    2000,
  );
  t.pass();
});

test('the documented refusals', (t) => {
  const reasonOf = (name: string, url: string, secret?: string): string | null => {
    try {
      targetOfInput({ name, url, ...(secret === undefined ? {} : { hmacSecret: secret }) }, 1);
      return null;
    } catch (error) {
      return error instanceof NotifyTargetError ? error.reason : 'other';
    }
  };
  t.is(reasonOf('ok', 'http://h/x'), null);
  t.is(reasonOf('ok', 'http://h/x', 's'), null);
  t.is(reasonOf('bad name', 'http://h/x'), 'invalid');
  t.is(reasonOf('ok', 'http://h/x#hmac=s'), 'invalid');
  t.is(reasonOf('ok', 'nats://h:4222/s', 's'), 'invalid');
  t.is(reasonOf('ok', 'http://h/x', ''), 'invalid');
  t.is(reasonOf('ok', 'http://h/x', 's'.repeat(LIMITS.notifyTargetSecretCharsMax + 1)), 'invalid');
  t.is(reasonOf('ok', `http://h/${'a'.repeat(LIMITS.notifyTargetUrlCharsMax)}`), 'invalid');
  t.is(reasonOf('ok', 'gopher://h/'), 'invalid');
});

test('NATS credentials leave the URL for natsAuth, decoded; their errors never echo them', (t) => {
  const user = targetOfInput({ name: 'u', url: 'nats://events:p%40ss%2Fw@h:4222/s' }, 1);
  t.is(user.url, 'nats://h:4222');
  t.deepEqual(user.natsAuth, { user: 'events', pass: 'p@ss/w' });
  const token = targetOfInput({ name: 't', url: 'nats://s3cr3t-token@h:4222/s' }, 1);
  t.is(token.url, 'nats://h:4222');
  t.deepEqual(token.natsAuth, { token: 's3cr3t-token' });
  t.is(targetOfInput({ name: 'n', url: 'nats://h:4222/s' }, 1).natsAuth, undefined);
  for (const url of ['nats://:lonely-pass@h:4222/s', 'nats://u:bad%zzsecret@h:4222/s']) {
    const error = t.throws(() => targetOfInput({ name: 'x', url }, 1));
    t.false(error?.message.includes('lonely-pass') || error?.message.includes('secret'), url);
  }
});
