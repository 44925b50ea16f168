import { useState } from 'react';
import { ApiFailure, developmentToken, request } from './api';
import { ErrorBox } from './components';
import { MeDocument } from './generated/graphql';
import { href, useRoute } from './router';
import { defaultServer, loadSession, saveSession, SessionContext, type SignedIn } from './session';
import { LeadList } from './screens/LeadList';
import { LeadPage } from './screens/LeadPage';
import { NewLead } from './screens/NewLead';
import { JobList, JobPage } from './screens/Jobs';

export function App() {
  const [session, setSession] = useState<SignedIn | null>(loadSession);
  const signIn = (next: SignedIn | null) => {
    saveSession(next);
    setSession(next);
  };
  if (!session) return <SignIn onSignedIn={signIn} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} onSignOut={() => signIn(null)} />
    </SessionContext.Provider>
  );
}

function Shell({ session, onSignOut }: { session: SignedIn; onSignOut: () => void }) {
  const route = useRoute();
  return (
    <div className="app">
      <header>
        <a className="brand" href={href({ screen: 'leads' })}>
          leadq
        </a>
        <nav>
          <a href={href({ screen: 'leads' })} className={route.screen === 'leads' ? 'active' : ''}>
            Leads
          </a>
          <a href={href({ screen: 'new' })} className={route.screen === 'new' ? 'active' : ''}>
            New lead
          </a>
          <a href={href({ screen: 'jobs' })} className={route.screen === 'jobs' || route.screen === 'job' ? 'active' : ''}>
            Jobs
          </a>
        </nav>
        <span className="who" data-testid="who">
          {session.me.name} <small>({session.me.roles.join(', ')})</small> · <small>{session.server}</small>
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        {route.screen === 'leads' && <LeadList />}
        {route.screen === 'lead' && <LeadPage key={route.id} id={route.id} />}
        {route.screen === 'new' && <NewLead />}
        {route.screen === 'jobs' && <JobList />}
        {route.screen === 'job' && <JobPage key={route.id} id={route.id} />}
      </main>
    </div>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (session: SignedIn) => void }) {
  const [server, setServer] = useState(defaultServer);
  const [token, setToken] = useState('');
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [pending, setPending] = useState(false);

  const attempt = async (getToken: () => Promise<string>) => {
    setPending(true);
    setFailure(null);
    try {
      const bearer = (await getToken()).trim().replace(/^Bearer\s+/i, '');
      const { me } = await request({ server, token: bearer }, MeDocument, {});
      onSignedIn({ server: server.replace(/\/+$/, ''), token: bearer, me });
    } catch (err) {
      setFailure(err instanceof ApiFailure ? err : new ApiFailure([{ code: 'NETWORK', message: String(err) }], 0));
    } finally {
      setPending(false);
    }
  };

  return (
    <div className="sign-in">
      <h1>leadq</h1>
      <p>Sign in to your lead qualification server.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void attempt(async () => token);
        }}
      >
        <label>
          leadq address
          <input name="server" value={server} onChange={(e) => setServer(e.target.value)} required />
        </label>
        <label>
          Token
          <textarea
            name="token"
            rows={4}
            value={token}
            onChange={(e) => setToken(e.target.value)}
            placeholder="Paste a bearer token (leadq token --name NAME --role SALESPERSON)"
          />
        </label>
        <div className="actions">
          <button type="submit" disabled={pending || token.trim() === ''}>
            Sign in
          </button>
          <button type="button" disabled={pending} onClick={() => void attempt(() => developmentToken(server))}>
            Use the development token
          </button>
        </div>
      </form>
      <ErrorBox failure={failure} />
    </div>
  );
}
