// What each error code means to the person using the app (api.md's list and the README's). The
// code decides the text; the server's message is shown beside it as the detail.
import type { ApiError } from './api';

const meanings: Record<string, string> = {
  UNAUTHENTICATED: 'Your token is missing, expired or not valid here. Sign in again.',
  FORBIDDEN: 'Your role does not allow this (a salesperson may change only their own leads).',
  NOT_FOUND: 'This record does not exist (any more).',
  BAD_USER_INPUT: 'A value was not accepted.',
  LEAD_CLOSED: 'The lead is already qualified or disqualified. Reactivate it first.',
  COMPANY_NAME_REQUIRED: 'An account cannot be created: the lead has no company name.',
  TOO_MANY_OPPORTUNITIES: 'Too many opportunities for one lead under the settings.',
  LEAD_HAS_OPPORTUNITY: 'The lead has an opportunity, so it cannot be disqualified.',
  CHOICE_REQUIRED: 'The settings ask you to choose what to do with this record.',
  CONFLICT: 'This conflicts with another change (or an idempotency key was reused with other input).',
  BATCH_TOO_LARGE: 'Too many leads in one call.',
  INTERNAL_SERVER_ERROR: 'leadq failed unexpectedly. Try again; if it persists, tell an administrator.',
  SERVER_BUSY: 'leadq is busy. Try again in a moment.',
  DATABASE_UNAVAILABLE: 'leadq cannot reach its database right now. Try again in a moment.',
  RATE_LIMITED: 'Too many requests. Wait a little and try again.',
  TIMEOUT: 'The request took too long and was stopped. Try again.',
  QUERY_TOO_COMPLEX: 'The request asks for too much at once.',
  RESPONSE_TOO_LARGE: 'The answer would be too large.',
  PERSISTED_QUERY_NOT_FOUND: 'This server runs only registered operations, and this one is not registered.',
  NETWORK: 'leadq cannot be reached from this page (network down, wrong address, or this origin is not in LEADQ_CORS_ORIGINS).',
  BAD_RESPONSE: 'leadq answered something that is not a GraphQL answer.',
  NO_DEVELOPMENT_TOKEN: 'No development token is available: paste a token from `leadq token` instead.',
};

/** The meaning of a code, for people. */
export const meaning = (code: string): string => meanings[code] ?? `Error ${code}.`;

/** Whether trying again later may succeed. */
export const retryable = (code: string): boolean =>
  ['SERVER_BUSY', 'DATABASE_UNAVAILABLE', 'RATE_LIMITED', 'TIMEOUT', 'NETWORK'].includes(code);

export const describe = (error: ApiError): string => {
  const field = error.field ? ` (field: ${error.field})` : '';
  const retry = error.retryAfterSeconds ? ` Retry after ${error.retryAfterSeconds} s.` : '';
  return `${meaning(error.code)}${retry}${field}`;
};
