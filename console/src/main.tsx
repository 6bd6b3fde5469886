// The hangar web console: sign-in, then pages chosen by the URL's hash (#/buckets, ...).
import type { S3Client } from '@aws-sdk/client-s3';
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { BucketSettings } from './bucket-settings.js';
import { Buckets } from './buckets.js';
import { Keys } from './keys.js';
import { Objects } from './objects.js';
import { Overview } from './overview.js';
import {
  type ConsoleConfig,
  loadConfig,
  loadSession,
  type Session,
  s3ClientFor,
  saveSession,
} from './session.js';
import { SignIn } from './signin.js';

/** What every page gets: who is signed in, and the clients to reach hangar. */
export interface PageProps {
  readonly session: Session;
  readonly config: ConsoleConfig;
  /** Null when the session has no S3 keys (an operator who gave only the token). */
  readonly s3: S3Client | null;
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

function useTheme(): [string, () => void] {
  const [theme, setTheme] = useState(
    localStorage.getItem('hangar.console.theme') ??
      (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'),
  );
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('hangar.console.theme', theme);
  }, [theme]);
  return [theme, () => setTheme(theme === 'dark' ? 'light' : 'dark')];
}

function App() {
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [configError, setConfigError] = useState<string | null>(null);
  const [session, setSession] = useState<Session | null>(loadSession());
  const [theme, toggleTheme] = useTheme();
  const hash = useHash();
  useEffect(() => {
    loadConfig().then(setConfig, (error: Error) => setConfigError(error.message));
  }, []);
  const s3 = useMemo(
    () => (config !== null && session?.keys ? s3ClientFor(config, session.keys) : null),
    [config, session],
  );
  const signIn = (next: Session | null) => {
    saveSession(next);
    setSession(next);
    location.hash = next === null ? '' : next.adminToken !== null ? '#/overview' : '#/buckets';
  };
  if (configError !== null) return <p role="alert">The console cannot start: {configError}</p>;
  if (config === null) return <p aria-busy="true">Loading…</p>;
  const themeButton = (
    // The visible text is the accessible name (no aria-label that says otherwise: WCAG 2.5.3).
    <button type="button" class="theme" onClick={toggleTheme}>
      {theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
    </button>
  );
  if (session === null) {
    return (
      <main class="signin-page">
        <h1>hangar console</h1>
        {themeButton}
        <SignIn config={config} onSignedIn={signIn} />
      </main>
    );
  }
  const props: PageProps = { session, config, s3 };
  const operator = session.adminToken !== null;
  return (
    <div class="shell">
      <header>
        <a class="brand" href="#/buckets">
          hangar
        </a>
        <nav aria-label="Main">
          {operator && <a href="#/overview">Overview</a>}
          <a href="#/buckets">Buckets</a>
          {operator && <a href="#/keys">Keys</a>}
        </nav>
        <span class="who">{operator ? 'Operator' : `Key ${session.keys?.accessKeyId ?? ''}`}</span>
        {themeButton}
        <button type="button" onClick={() => signIn(null)}>
          Sign out
        </button>
      </header>
      <main>{page(hash, props)}</main>
    </div>
  );
}

function page(hash: string, props: PageProps) {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [section, bucket, view] = parts;
  if (section === 'overview' && props.session.adminToken !== null) return <Overview {...props} />;
  if (section === 'keys' && props.session.adminToken !== null) return <Keys {...props} />;
  if (section === 'buckets' && bucket !== undefined && bucket !== '') {
    if (view === 'settings') return <BucketSettings {...props} bucket={bucket} />;
    return <Objects {...props} bucket={bucket} />;
  }
  return <Buckets {...props} />;
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
