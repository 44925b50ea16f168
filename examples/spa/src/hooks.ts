import { useCallback, useEffect, useRef, useState } from 'react';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { ApiFailure, request } from './api';
import { useSession } from './session';

export interface QueryState<T> {
  data: T | null;
  failure: ApiFailure | null;
  loading: boolean;
  reload: () => void;
}

/** Runs a query when its variables change (compared as JSON); the last answer wins. */
export function useQuery<TResult, TVariables>(
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  skip = false,
): QueryState<TResult> {
  const session = useSession();
  const [data, setData] = useState<TResult | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(variables);
  // The variables (and reload) the shown answer belongs to: loading until they are the current
  // ones, from the very render that changes them.
  const [answered, setAnswered] = useState<string | null>(null);
  const wanted = `${tick}:${key}`;
  const latest = useRef(variables);
  latest.current = variables;
  useEffect(() => {
    if (skip) return undefined;
    const abort = new AbortController();
    const asked = `${tick}:${key}`;
    request(session, document, latest.current, abort.signal).then(
      (result) => {
        if (abort.signal.aborted) return;
        setData(result);
        setFailure(null);
        setAnswered(asked);
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        setFailure(err instanceof ApiFailure ? err : new ApiFailure([{ code: 'NETWORK', message: String(err) }], 0));
        setAnswered(asked);
      },
    );
    return () => abort.abort();
  }, [session, document, key, tick, skip]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, failure, loading: !skip && answered !== wanted, reload };
}

/** A mutation's runner with its pending flag and last failure. */
export function useMutation<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>) {
  const session = useSession();
  const [pending, setPending] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const run = useCallback(
    async (variables: TVariables): Promise<TResult | null> => {
      setPending(true);
      setFailure(null);
      try {
        return await request(session, document, variables);
      } catch (err) {
        setFailure(err instanceof ApiFailure ? err : new ApiFailure([{ code: 'NETWORK', message: String(err) }], 0));
        return null;
      } finally {
        setPending(false);
      }
    },
    [session, document],
  );
  return { run, pending, failure, clear: () => setFailure(null) };
}
