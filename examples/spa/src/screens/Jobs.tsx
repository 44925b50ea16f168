// Qualification jobs: the list, and one job with its live progress over the WebSocket
// subscription (qualificationJobProgress), its per-lead results once it ends, and cancel.
import { useEffect, useState } from 'react';
import { ApiFailure, subscribe, subscriptionClient } from '../api';
import { Badge, ErrorBox, ItemErrorLine, stateTone, when } from '../components';
import {
  CancelQualificationJobDocument,
  JobDocument,
  JobProgressDocument,
  JobsDocument,
  type JobFieldsFragment,
} from '../generated/graphql';
import { useMutation, useQuery } from '../hooks';
import { href } from '../router';
import { useSession } from '../session';

const finished = (state: string) => ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(state);

export function JobList() {
  const jobs = useQuery(JobsDocument, {});
  return (
    <section>
      <h1>Qualification jobs</h1>
      <ErrorBox failure={jobs.failure} onRetry={jobs.reload} />
      <table>
        <thead>
          <tr>
            <th>Started by</th>
            <th>Created</th>
            <th>State</th>
            <th>Progress</th>
          </tr>
        </thead>
        <tbody>
          {jobs.data?.qualificationJobs.edges.map(({ node: job }) => (
            <tr key={job.id}>
              <td>{job.createdBy.name}</td>
              <td>
                <a href={href({ screen: 'job', id: job.id })}>{when(job.createdAt)}</a>
              </td>
              <td>
                <Badge tone={stateTone(job.state)}>{job.state}</Badge>
              </td>
              <td>
                {job.processed} / {job.total}
              </td>
            </tr>
          ))}
          {jobs.data && jobs.data.qualificationJobs.edges.length === 0 ? (
            <tr>
              <td colSpan={4} className="empty">
                No jobs yet: select leads in a list and choose "Qualify in a background job".
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}

export function JobPage({ id }: { id: string }) {
  const session = useSession();
  const job = useQuery(JobDocument, { id });
  const [live, setLive] = useState<JobFieldsFragment | null>(null);
  const [events, setEvents] = useState(0);
  const [streamFailure, setStreamFailure] = useState<ApiFailure | null>(null);
  const [streaming, setStreaming] = useState(true);
  const cancel = useMutation(CancelQualificationJobDocument);
  const { reload } = job;

  useEffect(() => {
    const client = subscriptionClient(session);
    const stop = subscribe(client, JobProgressDocument, { id }, {
      onData: (data) => {
        setLive(data.qualificationJobProgress);
        setEvents((n) => n + 1);
      },
      onError: (failure) => {
        setStreamFailure(failure);
        setStreaming(false);
      },
      onComplete: () => {
        setStreaming(false);
        reload();
      },
    });
    return () => {
      stop();
      void client.dispose();
    };
  }, [session, id, reload]);

  const stored = job.data?.qualificationJob;
  // The newest of the two: the subscription's events, or the query (read after the end).
  const current: JobFieldsFragment | null =
    live && stored ? (live.processed > stored.processed || !finished(stored.state) ? live : stored) : (live ?? stored ?? null);
  const percent = current && current.total > 0 ? Math.round((100 * current.processed) / current.total) : 0;

  return (
    <section className="job" data-testid="job">
      <p>
        <a href={href({ screen: 'jobs' })}>← Jobs</a>
      </p>
      <h1>Qualification job</h1>
      <ErrorBox failure={job.failure ?? streamFailure} onRetry={reload} />
      {current ? (
        <>
          <p>
            <Badge tone={stateTone(current.state)}>
              <span data-testid="job-state">{current.state}</span>
            </Badge>{' '}
            started by {current.createdBy.name} · created {when(current.createdAt)}
            {current.finishedAt ? ` · finished ${when(current.finishedAt)}` : ''}
          </p>
          <progress max={current.total} value={current.processed} aria-label="Job progress" />
          <p data-testid="job-progress">
            {current.processed} of {current.total} ({percent} %) · {current.qualifiedCount} qualified ·{' '}
            {current.duplicatesFoundCount} with duplicates · {current.failedCount} failed
          </p>
          <p className="live" data-testid="job-live">
            {streaming ? 'Live over WebSocket' : 'Subscription ended'} · {events} progress event{events === 1 ? '' : 's'} received
          </p>
          {!finished(current.state) ? (
            <button
              type="button"
              disabled={cancel.pending}
              onClick={async () => {
                const answer = await cancel.run({ input: { jobId: id } });
                if (answer) setLive(answer.cancelQualificationJob.job);
              }}
            >
              Cancel the job
            </button>
          ) : null}
          <ErrorBox failure={cancel.failure} />
        </>
      ) : (
        <p aria-busy="true">Loading…</p>
      )}
      {stored && finished(stored.state) ? (
        <table data-testid="job-results">
          <thead>
            <tr>
              <th>Lead</th>
              <th>Outcome</th>
              <th>Account</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {stored.results.edges.map(({ node: r }) => (
              <tr key={r.leadId} data-outcome={r.outcome}>
                <td>
                  <a href={href({ screen: 'lead', id: r.leadId })}>{r.lead?.fullName ?? r.leadId}</a>
                </td>
                <td>
                  <Badge tone={stateTone(r.outcome)}>{r.outcome}</Badge>
                </td>
                <td>{r.account?.name}</td>
                <td>{r.error ? <ItemErrorLine error={r.error} /> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
