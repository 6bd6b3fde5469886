// A bucket's global aliases (operator only: AddBucketAlias / RemoveBucketAlias are admin API
// operations). Every alias names the same bucket; the last one cannot be removed.
import { useEffect, useState } from 'preact/hooks';
import { adminCall, errorText } from './session.js';
import { Outcome } from './ui.js';

interface AliasInfo {
  readonly id: string;
  readonly globalAliases: string[];
}

export function BucketAliases({ token, bucket }: { token: string; bucket: string }) {
  // Kept by id after the first read: the alias in the URL may be the one removed.
  const [info, setInfo] = useState<AliasInfo | null>(null);
  const [alias, setAlias] = useState('');
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  useEffect(() => {
    setInfo(null);
    setMessage(null);
    adminCall<AliasInfo>(token, 'GetBucketInfo', { query: { globalAlias: bucket } }).then(
      setInfo,
      (caught: unknown) => setMessage({ error: true, text: errorText(caught) }),
    );
  }, [token, bucket]);

  const change = async (operation: 'AddBucketAlias' | 'RemoveBucketAlias', name: string) => {
    if (info === null) return;
    setMessage(null);
    try {
      setInfo(
        await adminCall<AliasInfo>(token, operation, {
          body: { bucketId: info.id, globalAlias: name },
        }),
      );
      if (operation === 'AddBucketAlias') setAlias('');
      setMessage({
        error: false,
        text: `Alias ${name} ${operation === 'AddBucketAlias' ? 'added' : 'removed'}`,
      });
    } catch (caught) {
      setMessage({ error: true, text: errorText(caught) });
    }
  };
  const add = (event: Event) => {
    event.preventDefault();
    void change('AddBucketAlias', alias.trim());
  };

  return (
    <form class="card" onSubmit={add} aria-labelledby="aliases-title">
      <h2 id="aliases-title">Global aliases</h2>
      <ul class="aliases">
        {(info?.globalAliases ?? []).map((name) => (
          <li key={name} data-alias={name}>
            <code>{name}</code>{' '}
            <button type="button" onClick={() => change('RemoveBucketAlias', name)}>
              Remove <span class="sr-only">alias {name}</span>
            </button>
          </li>
        ))}
      </ul>
      <fieldset class="inline plain" disabled={info === null}>
        <label>
          New alias
          <input
            name="alias"
            required
            value={alias}
            onInput={(e) => setAlias(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Add alias</button>
        <Outcome message={message} />
      </fieldset>
    </form>
  );
}
