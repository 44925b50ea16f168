// A hash router: #/leads, #/leads/<id>, #/new, #/jobs, #/jobs/<id>. The hash keeps every screen
// reachable by URL from a plain static server (no server-side fallback needed).
import { useEffect, useState } from 'react';

export type Route =
  | { screen: 'leads' }
  | { screen: 'lead'; id: string }
  | { screen: 'new' }
  | { screen: 'jobs' }
  | { screen: 'job'; id: string };

export const parse = (hash: string): Route => {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'leads' && parts[1]) return { screen: 'lead', id: parts[1] };
  if (parts[0] === 'new') return { screen: 'new' };
  if (parts[0] === 'jobs' && parts[1]) return { screen: 'job', id: parts[1] };
  if (parts[0] === 'jobs') return { screen: 'jobs' };
  return { screen: 'leads' };
};

export const href = (route: Route): string => {
  switch (route.screen) {
    case 'leads':
      return '#/leads';
    case 'lead':
      return `#/leads/${encodeURIComponent(route.id)}`;
    case 'new':
      return '#/new';
    case 'jobs':
      return '#/jobs';
    case 'job':
      return `#/jobs/${encodeURIComponent(route.id)}`;
  }
};

export const go = (route: Route) => {
  window.location.hash = href(route);
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
