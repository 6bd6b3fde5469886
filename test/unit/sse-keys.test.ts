import { createCipheriv } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Catalog } from '../../engine/catalog/catalog.js';
import { Keyring, KmsError } from '../../engine/sse/keyring.js';
import { ensureMasterKey, masterKeyIdOf, parseMasterKey } from '../../engine/sse/master-key.js';
import {
  KeyIntegrityError,
  newKey,
  openKey,
  SEALED_KEY_BYTES,
  sealKey,
} from '../../engine/sse/wrap.js';
import { decryptAt, encryptor, newIv } from '../../engine/sse-c.js';

test('a sealed key opens with its wrapping key and additional data, and with nothing else', (t) => {
  const wrapping = newKey();
  const key = newKey();
  const sealed = sealKey(wrapping, key, 'object a');
  t.is(sealed.byteLength, SEALED_KEY_BYTES);
  t.true(openKey(wrapping, sealed, 'object a', 'test').equals(key));
  // Another wrapping key, other additional data, or any flipped bit (nonce, body, tag): refused.
  t.throws(() => openKey(newKey(), sealed, 'object a', 'test'), { instanceOf: KeyIntegrityError });
  t.throws(() => openKey(wrapping, sealed, 'object b', 'test'), { instanceOf: KeyIntegrityError });
  for (const at of [0, 20, SEALED_KEY_BYTES - 1]) {
    const corrupt = Uint8Array.from(sealed);
    corrupt[at] = (corrupt[at] ?? 0) ^ 1;
    t.throws(() => openKey(wrapping, corrupt, 'object a', 'test'), {
      instanceOf: KeyIntegrityError,
    });
  }
  t.throws(() => openKey(wrapping, sealed.subarray(1), 'object a', 'test'), {
    instanceOf: KeyIntegrityError,
  });
});

test('master key files: hex, base64 or raw 32 bytes; anything else refused', (t) => {
  const key = newKey();
  const id = masterKeyIdOf(key);
  t.regex(id, /^[0-9a-f]{16}$/);
  t.is(parseMasterKey(Buffer.from(`${key.toString('hex')}\n`), 'f').id, id);
  t.is(parseMasterKey(Buffer.from(` ${key.toString('base64')} `), 'f').id, id);
  t.is(parseMasterKey(key, 'f').id, id);
  t.throws(() => parseMasterKey(Buffer.from('short'), 'f'));
  t.throws(() => parseMasterKey(Buffer.from('ab'.repeat(31)), 'f'));
});

test('a generated master key is 0600 and stable; the keyring seals under it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-keyring-'));
  const catalog = Catalog.open(dir);
  try {
    const path = join(dir, 'sse-master.key');
    const first = ensureMasterKey(path);
    t.is(statSync(path).mode & 0o777, 0o600);
    t.is(ensureMasterKey(path).id, first.id);
    const keyring = new Keyring(catalog.kmsTables(), dir, null);
    const created = await keyring.createKey('unit', 'unit');
    const data = keyring.newKmsDataKey('alias/unit', undefined);
    t.true(Buffer.from(keyring.dataKeyOf(data.managed).key).equals(Buffer.from(data.key)));
    // A record whose sealed key was altered is an error, never another key.
    const wrapped = Uint8Array.from(data.managed.wrapped);
    wrapped[30] = (wrapped[30] ?? 0) ^ 0x80;
    t.throws(() => keyring.dataKeyOf({ ...data.managed, wrapped }), {
      instanceOf: KeyIntegrityError,
    });
    // ... and so is one that claims another key version or context.
    t.throws(() => keyring.dataKeyOf({ ...data.managed, context: 'e30=' }), {
      instanceOf: KeyIntegrityError,
    });
    await keyring.setEnabled(created.id, false);
    t.throws(() => keyring.dataKeyOf(data.managed), { instanceOf: KmsError, message: /disabled/ });
    await keyring.setEnabled(created.id, true);
    const rotation = await keyring.rotateMaster();
    t.is(rotation.previousId, first.id);
    t.is(rotation.rewrapped, 1);
    t.true(Buffer.from(keyring.dataKeyOf(data.managed).key).equals(Buffer.from(data.key)));
    // A fresh keyring (another thread) reads the new master key from the file.
    const other = new Keyring(catalog.kmsTables(), dir, null);
    t.true(Buffer.from(other.dataKeyOf(data.managed).key).equals(Buffer.from(data.key)));
    // A master key file replaced by another key: the material no longer opens.
    writeFileSync(path, `${newKey().toString('hex')}\n`);
    const stranger = new Keyring(catalog.kmsTables(), dir, null);
    t.throws(() => stranger.dataKeyOf(data.managed));
    // A lost master key file is not regenerated while keys are sealed under it.
    rmSync(path);
    t.throws(() => new Keyring(catalog.kmsTables(), dir, null).currentMaster(), {
      message: /does not exist/,
    });
  } finally {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a key pending deletion is unusable, and gone once its waiting period is over', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-keyring-'));
  const catalog = Catalog.open(dir);
  try {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const keyring = new Keyring(catalog.kmsTables(), dir, null, () => now);
    const created = await keyring.createKey('doomed', 'doomed');
    const data = keyring.newKmsDataKey('alias/doomed', undefined);
    const scheduled = await keyring.scheduleDeletion(created.id, 7);
    t.is(scheduled.state, 'PendingDeletion');
    t.is(scheduled.deletionMs, now + 7 * 86_400_000);
    t.throws(() => keyring.dataKeyOf(data.managed), {
      instanceOf: KmsError,
      message: /pending deletion/,
    });
    t.throws(() => keyring.newKmsDataKey(created.id, undefined), { message: /pending deletion/ });
    // One millisecond before the date the key still exists (and may be kept) ...
    now += 7 * 86_400_000 - 1;
    t.is(keyring.view(created.id)?.state, 'PendingDeletion');
    t.deepEqual(await keyring.purgeDeleted(), []);
    // ... at the date it is gone: unknown to every lookup, then purged with its alias.
    now += 1;
    t.is(keyring.view(created.id), undefined);
    t.is(keyring.view('alias/doomed'), undefined);
    t.false(keyring.list().some((key) => key.id === created.id));
    const gone = t.throws(() => keyring.dataKeyOf(data.managed), { instanceOf: KmsError });
    t.is(gone?.reason, 'NotFoundException');
    await t.throwsAsync(keyring.cancelDeletion(created.id), { message: /does not exist/ });
    t.deepEqual(await keyring.purgeDeleted(), [created.id]);
    t.is(catalog.kmsTables().keys.get(created.id), undefined);
    t.is(catalog.kmsTables().aliases.get('doomed'), undefined);
    // The alias is free for a new key.
    t.not((await keyring.createKey('reborn', 'doomed')).id, created.id);
  } finally {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dual-layer data key is two independent keys, both needed: outer layer over inner layer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-keyring-'));
  const catalog = Catalog.open(dir);
  try {
    const keyring = new Keyring(catalog.kmsTables(), dir, null);
    await keyring.createKey('dual', 'dual');
    const data = keyring.newKmsDataKey('alias/dual', undefined, true, 'dsse');
    t.is(data.managed.kind, 'dsse');
    t.is(data.managed.bucketKey, true);
    const outerKey = data.outerKey;
    if (outerKey === undefined) throw new Error('a dual-layer key has an outer key');
    t.false(Buffer.from(outerKey).equals(Buffer.from(data.key)));
    const opened = keyring.dataKeyOf(data.managed);
    t.true(Buffer.from(opened.key).equals(Buffer.from(data.key)));
    t.true(Buffer.from(opened.outerKey ?? []).equals(Buffer.from(outerKey)));

    const plain = Buffer.from('two layers of AES-256-CTR, each with its own key'.repeat(3));
    const iv = newIv();
    const sealed = encryptor(data, iv)(plain);
    const inner = createCipheriv('aes-256-ctr', data.key, iv).update(plain);
    t.true(sealed.equals(createCipheriv('aes-256-ctr', outerKey, iv).update(inner)));
    // Either key alone opens nothing.
    for (const one of [{ key: data.key }, { key: outerKey }]) {
      const bytes = Buffer.from(sealed);
      decryptAt(one, iv, 0, bytes);
      t.false(bytes.equals(plain));
    }
    const tail = Buffer.from(sealed.subarray(37));
    decryptAt(opened, iv, 37, tail);
    t.true(tail.equals(plain.subarray(37)));

    // The outer key neither opens as the inner one, nor may it be missing.
    t.throws(
      () =>
        keyring.dataKeyOf({
          ...data.managed,
          wrapped: data.managed.wrappedOuter ?? new Uint8Array(),
        }),
      {
        instanceOf: KeyIntegrityError,
      },
    );
    const { wrappedOuter: _dropped, ...single } = data.managed;
    t.throws(() => keyring.dataKeyOf(single), { instanceOf: KeyIntegrityError });
  } finally {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
