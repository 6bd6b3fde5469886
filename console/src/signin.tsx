// Sign-in: the admin token (operator view) or an access key pair (bucket user view). Each is
// checked with a real call before the session is kept: GetClusterStatus, or S3 ListBuckets
// signed here (the secret is never sent, only signatures made with it).
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { useState } from 'preact/hooks';
import { adminCall, type ConsoleConfig, errorText, type Session, s3ClientFor } from './session.js';
import { ErrorLine } from './ui.js';

interface Props {
  readonly config: ConsoleConfig;
  readonly onSignedIn: (session: Session) => void;
}

export function SignIn({ config, onSignedIn }: Props) {
  const [mode, setMode] = useState<'operator' | 'user'>('operator');
  const [token, setToken] = useState('');
  const [accessKeyId, setAccessKeyId] = useState('');
  const [secretAccessKey, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const keys =
        accessKeyId.trim() === ''
          ? null
          : { accessKeyId: accessKeyId.trim(), secretAccessKey: secretAccessKey.trim() };
      if (mode === 'operator') {
        await adminCall(token.trim(), 'GetClusterStatus');
      } else if (keys === null) {
        throw new Error('An access key ID is required');
      }
      if (keys !== null) await s3ClientFor(config, keys).send(new ListBucketsCommand({}));
      onSignedIn({ adminToken: mode === 'operator' ? token.trim() : null, keys });
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card signin" onSubmit={submit} aria-labelledby="signin-title">
      <h2 id="signin-title">Sign in</h2>
      <div role="radiogroup" aria-label="Sign in as" class="modes">
        <label>
          <input
            type="radio"
            name="mode"
            checked={mode === 'operator'}
            onChange={() => setMode('operator')}
          />
          Operator (admin token)
        </label>
        <label>
          <input
            type="radio"
            name="mode"
            checked={mode === 'user'}
            onChange={() => setMode('user')}
          />
          Bucket user (access key)
        </label>
      </div>
      {mode === 'operator' && (
        <label>
          Admin token
          <input
            type="password"
            name="token"
            autocomplete="current-password"
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
      )}
      <label>
        Access key ID{mode === 'operator' ? ' (optional, to browse objects)' : ''}
        <input
          name="accessKeyId"
          autocomplete="username"
          required={mode === 'user'}
          value={accessKeyId}
          onInput={(e) => setAccessKeyId(e.currentTarget.value)}
        />
      </label>
      <label>
        Secret access key
        <input
          type="password"
          name="secretAccessKey"
          autocomplete="current-password"
          required={mode === 'user'}
          value={secretAccessKey}
          onInput={(e) => setSecret(e.currentTarget.value)}
        />
      </label>
      <ErrorLine text={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
