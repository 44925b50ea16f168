// Small pieces shared by the screens.
import type { ReactNode } from 'react';
import type { ApiFailure } from './api';
import { describe, retryable } from './errors';

/** A failure, shown by what its code means (the server's message as the detail). */
export function ErrorBox({ failure, onRetry }: { failure: ApiFailure | null; onRetry?: () => void }) {
  if (!failure) return null;
  return (
    <div className="error" role="alert" data-testid="error">
      {failure.errors.map((error, i) => (
        <p key={i}>
          <strong data-code={error.code}>{describe(error)}</strong>
          <br />
          <small>
            <code>{error.code}</code> {error.message}
          </small>
        </p>
      ))}
      {onRetry && retryable(failure.code) ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** An error item of a result (a preview's error, a bulk result's error). */
export function ItemErrorLine({ error }: { error: { code: string; message: string } }) {
  return (
    <span className="item-error" data-code={error.code}>
      {describe({ code: error.code, message: error.message })} <code>{error.code}</code>{' '}
      <small>{error.message}</small>
    </span>
  );
}

export function Badge({ children, tone }: { children: ReactNode; tone?: string }) {
  return <span className={`badge ${tone ?? ''}`}>{children}</span>;
}

export const stateTone = (state: string): string =>
  ({ OPEN: 'blue', QUALIFIED: 'green', DISQUALIFIED: 'grey', DUPLICATES_FOUND: 'amber', FAILED: 'red',
     SUCCEEDED: 'green', RUNNING: 'blue', QUEUED: 'grey', CANCELED: 'grey' })[state] ?? '';

export const money = (amount: string | null, currency: string | null) =>
  amount == null ? '' : `${amount} ${currency ?? ''}`.trim();

export const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '');

/** A random idempotency key for one user action (repeating the action replays its result). */
export const newKey = (prefix: string): string => {
  const random =
    typeof crypto !== 'undefined' && 'randomUUID' in crypto
      ? crypto.randomUUID()
      : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${random}`;
};
