// Lead lists (My Open Leads by default): paged by cursor, searchable, with a selection that can
// be qualified at once (qualifyLeads, per-lead results) or handed to a background job.
import { useState } from 'react';
import { Badge, ErrorBox, ItemErrorLine, money, newKey, stateTone, when } from '../components';
import {
  LeadListDocument,
  QualifyLeadsDocument,
  StartQualificationJobDocument,
  type DuplicatePolicy,
  type LeadView,
  type QualifyLeadsMutation,
  type RecordAction,
} from '../generated/graphql';
import { useMutation, useQuery } from '../hooks';
import { go, href } from '../router';

const PAGE_SIZE = 10;

const views: { value: LeadView; label: string }[] = [
  { value: 'MY_OPEN_LEADS', label: 'My Open Leads' },
  { value: 'OPEN_LEADS', label: 'Open Leads' },
  { value: 'CLOSED_LEADS', label: 'Closed Leads' },
  { value: 'ALL_LEADS', label: 'All Leads' },
];

export function LeadList() {
  const [view, setView] = useState<LeadView>('MY_OPEN_LEADS');
  const [search, setSearch] = useState('');
  const [text, setText] = useState('');
  // Cursors of the pages before this one (the first page has none).
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const list = useQuery(LeadListDocument, { view, text: text || null, first: PAGE_SIZE, after });

  const restart = () => {
    setCursors([null]);
    setSelected(new Set());
  };
  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const leads = list.data?.leads;
  const page = cursors.length;
  const pages = leads ? Math.max(1, Math.ceil(leads.totalCount / PAGE_SIZE)) : 1;

  return (
    <section className="leads">
      <div className="toolbar">
        <h1>{views.find((v) => v.value === view)?.label}</h1>
        <select
          aria-label="View"
          value={view}
          onChange={(e) => {
            setView(e.target.value as LeadView);
            restart();
          }}
        >
          {views.map((v) => (
            <option key={v.value} value={v.value}>
              {v.label}
            </option>
          ))}
        </select>
        <form
          className="search"
          onSubmit={(e) => {
            e.preventDefault();
            setText(search.trim());
            restart();
          }}
        >
          <input
            type="search"
            aria-label="Search leads"
            placeholder="Search topic, name, company, e-mail"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <button type="submit">Search</button>
        </form>
        <a className="button" href={href({ screen: 'new' })}>
          New lead
        </a>
      </div>
      <ErrorBox failure={list.failure} onRetry={list.reload} />
      <table data-testid="lead-table" aria-busy={list.loading}>
        <thead>
          <tr>
            <th aria-label="Select" />
            <th>Topic</th>
            <th>Name</th>
            <th>Company</th>
            <th>E-mail</th>
            <th>Budget</th>
            <th>State</th>
            <th>Owner</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {leads?.edges.map(({ node: lead }) => (
            <tr key={lead.id} data-lead-id={lead.id}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select ${lead.topic}`}
                  checked={selected.has(lead.id)}
                  onChange={() => toggle(lead.id)}
                />
              </td>
              <td>
                <a href={href({ screen: 'lead', id: lead.id })}>{lead.topic}</a>
              </td>
              <td>{lead.fullName}</td>
              <td>{lead.companyName}</td>
              <td>{lead.email}</td>
              <td className="num">{money(lead.budgetAmount, lead.currencyCode)}</td>
              <td>
                <Badge tone={stateTone(lead.state)}>{lead.state}</Badge> <small>{lead.statusReason}</small>
              </td>
              <td>{lead.owner.name}</td>
              <td>{when(lead.createdAt)}</td>
            </tr>
          ))}
          {leads && leads.edges.length === 0 ? (
            <tr>
              <td colSpan={9} className="empty">
                No leads here.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <div className="pager">
        <button type="button" disabled={page <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous
        </button>
        <span data-testid="page-info">
          {list.loading ? 'Loading…' : `Page ${page} of ${pages} · ${leads?.totalCount ?? 0} leads`}
        </span>
        <button
          type="button"
          disabled={!leads?.pageInfo.hasNextPage}
          onClick={() => leads?.pageInfo.endCursor && setCursors((c) => [...c, leads.pageInfo.endCursor])}
        >
          Next
        </button>
      </div>
      {selected.size > 0 ? (
        <BulkPanel
          leadIds={[...selected]}
          onDone={() => {
            list.reload();
          }}
          onClear={() => setSelected(new Set())}
        />
      ) : null}
    </section>
  );
}

const actionOptions = (opportunity: boolean): { value: RecordAction | ''; label: string }[] => [
  { value: '', label: 'As the settings decide' },
  { value: 'CREATE_NEW', label: 'Create new' },
  ...(opportunity ? [] : [{ value: 'USE_EXISTING' as const, label: "Use the lead's existing" }]),
  { value: 'SKIP', label: 'Skip' },
];

function BulkPanel({ leadIds, onDone, onClear }: { leadIds: string[]; onDone: () => void; onClear: () => void }) {
  const [account, setAccount] = useState<RecordAction | ''>('');
  const [contact, setContact] = useState<RecordAction | ''>('');
  const [opportunity, setOpportunity] = useState<RecordAction | ''>('');
  const [policy, setPolicy] = useState<DuplicatePolicy>('REPORT');
  const [result, setResult] = useState<QualifyLeadsMutation['qualifyLeads'] | null>(null);
  const bulk = useMutation(QualifyLeadsDocument);
  const job = useMutation(StartQualificationJobDocument);
  const choices = {
    account: account || null,
    contact: contact || null,
    opportunity: opportunity || null,
    duplicatePolicy: policy,
  };

  return (
    <section className="bulk" data-testid="bulk-panel">
      <h2>
        {leadIds.length} selected{' '}
        <button type="button" className="link" onClick={onClear}>
          clear
        </button>
      </h2>
      <div className="choices">
        <label>
          Account
          <select value={account} onChange={(e) => setAccount(e.target.value as RecordAction | '')}>
            {actionOptions(false).map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Contact
          <select value={contact} onChange={(e) => setContact(e.target.value as RecordAction | '')}>
            {actionOptions(false).map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Opportunity
          <select value={opportunity} onChange={(e) => setOpportunity(e.target.value as RecordAction | '')}>
            {actionOptions(true).map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Duplicates
          <select value={policy} onChange={(e) => setPolicy(e.target.value as DuplicatePolicy)}>
            <option value="REPORT">Report them (qualify nothing for that lead)</option>
            <option value="LINK_SINGLE_MATCH">Link a single match</option>
            <option value="CREATE_ANYWAY">Create anyway</option>
          </select>
        </label>
      </div>
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={bulk.pending}
          onClick={async () => {
            const answer = await bulk.run({ input: { leadIds, ...choices, idempotencyKey: newKey('bulk') } });
            if (answer) {
              setResult(answer.qualifyLeads);
              onDone();
            }
          }}
        >
          Qualify {leadIds.length} selected
        </button>
        <button
          type="button"
          disabled={job.pending}
          onClick={async () => {
            const answer = await job.run({ input: { leadIds, ...choices, idempotencyKey: newKey('job') } });
            if (answer) go({ screen: 'job', id: answer.startQualificationJob.job.id });
          }}
        >
          Qualify in a background job
        </button>
      </div>
      <ErrorBox failure={bulk.failure ?? job.failure} />
      {result ? <BulkResults result={result} /> : null}
    </section>
  );
}

function BulkResults({ result }: { result: QualifyLeadsMutation['qualifyLeads'] }) {
  return (
    <div className="bulk-results" data-testid="bulk-results">
      <p data-testid="bulk-counts">
        <Badge tone="green">{result.qualifiedCount} qualified</Badge>{' '}
        <Badge tone="amber">{result.duplicatesFoundCount} with duplicates</Badge>{' '}
        <Badge tone="red">{result.failedCount} failed</Badge>
      </p>
      <table>
        <thead>
          <tr>
            <th>Lead</th>
            <th>Outcome</th>
            <th>Account</th>
            <th>Contact</th>
            <th>Opportunities</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          {result.results.map((r) => (
            <tr key={r.leadId} data-lead-id={r.leadId} data-outcome={r.outcome}>
              <td>
                <a href={href({ screen: 'lead', id: r.leadId })}>{r.lead?.fullName ?? r.leadId}</a>
              </td>
              <td>
                <Badge tone={stateTone(r.outcome)}>{r.outcome}</Badge>
              </td>
              <td>{r.account?.name}</td>
              <td>{r.contact?.fullName}</td>
              <td>{r.opportunities.map((o) => o.topic).join(', ')}</td>
              <td>
                {r.error ? <ItemErrorLine error={r.error} /> : null}
                {r.duplicates
                  ? `matches: ${[
                      ...r.duplicates.accounts.map((m) => m.account.name),
                      ...r.duplicates.contacts.map((m) => m.contact.fullName),
                    ].join(', ')}`
                  : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
