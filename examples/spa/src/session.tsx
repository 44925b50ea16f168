// The signed-in session (leadq's address, the token, who it is), kept in sessionStorage so a
// reload keeps it and closing the tab forgets it.
import { createContext, useContext } from 'react';
import type { Session } from './api';
import type { MeQuery } from './generated/graphql';

export interface SignedIn extends Session {
  me: MeQuery['me'];
}

const KEY = 'leadq-spa-session';

export const loadSession = (): SignedIn | null => {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as SignedIn) : null;
  } catch {
    return null;
  }
};

export const saveSession = (session: SignedIn | null) => {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
};

/**
 * leadq's address to offer on the sign-in screen: `?server=` in the page's URL, else the
 * build's VITE_LEADQ_URL, else this page's own origin (leadq serving the app itself).
 */
export const defaultServer = (): string => {
  const fromUrl = new URLSearchParams(window.location.search).get('server');
  return fromUrl || import.meta.env.VITE_LEADQ_URL || window.location.origin;
};

export const SessionContext = createContext<SignedIn | null>(null);

export function useSession(): SignedIn {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in app');
  return session;
}
