// One lead: its fields, and, while it is open, the qualify side pane (preview, the choices the
// settings ask for, the duplicate report with "use existing" / "create anyway", qualify) and
// disqualification with a reason; once closed, its records and reactivation.
import { useState } from 'react';
import { Badge, ErrorBox, ItemErrorLine, money, newKey, stateTone, when } from '../components';
import {
  DisqualifyLeadDocument,
  LeadDetailDocument,
  PreviewQualificationDocument,
  QualifyLeadDocument,
  ReactivateLeadDocument,
  SettingsDocument,
  type DuplicateReportFieldsFragment,
  type LeadDetailQuery,
  type LeadStatusReason,
  type QualifyLeadMutation,
  type RecordAction,
  type RecordChoiceInput,
} from '../generated/graphql';
import { useMutation, useQuery } from '../hooks';
import { href } from '../router';

type Lead = NonNullable<LeadDetailQuery['lead']>;

export function LeadPage({ id }: { id: string }) {
  const detail = useQuery(LeadDetailDocument, { id });
  const lead = detail.data?.lead;
  if (detail.failure) return <ErrorBox failure={detail.failure} onRetry={detail.reload} />;
  if (!detail.data) return <p aria-busy="true">Loading…</p>;
  if (!lead) return <p className="error">No lead with id {id}.</p>;
  return (
    <div className="lead-page">
      <section className="lead-detail" data-testid="lead-detail">
        <p>
          <a href={href({ screen: 'leads' })}>← Leads</a>
        </p>
        <h1>{lead.topic}</h1>
        <p>
          <Badge tone={stateTone(lead.state)}>
            <span data-testid="lead-state">{lead.state}</span>
          </Badge>{' '}
          <span data-testid="lead-status-reason">{lead.statusReason}</span> · stage {lead.processStage}
        </p>
        <LeadFields lead={lead} />
        {lead.state === 'OPEN' ? (
          <Disqualify lead={lead} onChanged={detail.reload} />
        ) : (
          <Closed lead={lead} onChanged={detail.reload} />
        )}
      </section>
      {lead.state === 'OPEN' ? <QualifyPane lead={lead} onQualified={detail.reload} /> : null}
    </div>
  );
}

function LeadFields({ lead }: { lead: Lead }) {
  const rows: [string, string | null | undefined][] = [
    ['Name', lead.fullName],
    ['Job title', lead.jobTitle],
    ['Company', lead.companyName],
    ['E-mail', lead.email],
    ['Business phone', lead.businessPhone],
    ['Website', lead.website],
    ['Budget', money(lead.budgetAmount, lead.currencyCode)],
    ['Purchase timeframe', lead.purchaseTimeframe],
    ['Source', lead.leadSource],
    ['Rating', lead.rating],
    ['City', [lead.address.city, lead.address.stateOrProvince, lead.address.countryOrRegion].filter(Boolean).join(', ')],
    ['Existing account', lead.existingAccount?.name],
    ['Existing contact', lead.existingContact?.fullName],
    ['Owner', lead.owner.name],
    ['Created', when(lead.createdAt)],
  ];
  return (
    <dl className="fields">
      {rows
        .filter(([, value]) => value)
        .map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
    </dl>
  );
}

const reasons: { value: LeadStatusReason; label: string }[] = [
  { value: 'LOST', label: 'Lost' },
  { value: 'CANNOT_CONTACT', label: 'Cannot contact' },
  { value: 'NO_LONGER_INTERESTED', label: 'No longer interested' },
  { value: 'CANCELED', label: 'Canceled' },
];

function Disqualify({ lead, onChanged }: { lead: Lead; onChanged: () => void }) {
  const [reason, setReason] = useState<LeadStatusReason>('LOST');
  const disqualify = useMutation(DisqualifyLeadDocument);
  return (
    <form
      className="disqualify"
      data-testid="disqualify"
      onSubmit={async (e) => {
        e.preventDefault();
        if (await disqualify.run({ input: { leadId: lead.id, statusReason: reason } })) onChanged();
      }}
    >
      <h2>Disqualify</h2>
      <label>
        Reason
        <select aria-label="Disqualify reason" value={reason} onChange={(e) => setReason(e.target.value as LeadStatusReason)}>
          {reasons.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={disqualify.pending}>
        Disqualify
      </button>
      <ErrorBox failure={disqualify.failure} />
    </form>
  );
}

function Closed({ lead, onChanged }: { lead: Lead; onChanged: () => void }) {
  const reactivate = useMutation(ReactivateLeadDocument);
  return (
    <section className="closed" data-testid="closed">
      {lead.state === 'QUALIFIED' ? (
        <>
          <h2>Qualified {when(lead.qualifiedAt)}</h2>
          <ul data-testid="qualified-records">
            {lead.qualifiedAccount ? <li>Account: {lead.qualifiedAccount.name}</li> : null}
            {lead.qualifiedContact ? <li>Contact: {lead.qualifiedContact.fullName}</li> : null}
            {lead.opportunities.map((o) => (
              <li key={o.id}>
                Opportunity: {o.topic} {money(o.budgetAmount, o.currencyCode)}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <h2>Disqualified: {lead.statusReason}</h2>
      )}
      <button
        type="button"
        disabled={reactivate.pending}
        onClick={async () => {
          if (await reactivate.run({ input: { leadId: lead.id } })) onChanged();
        }}
      >
        Reactivate
      </button>
      <ErrorBox failure={reactivate.failure} />
    </section>
  );
}

type RecordKey = 'account' | 'contact' | 'opportunity';
type Choices = Partial<Record<RecordKey, RecordChoiceInput>>;

const actionLabel: Record<RecordAction, string> = {
  CREATE_NEW: 'Create new',
  USE_EXISTING: 'Use existing',
  SKIP: 'Skip',
};

/** The qualify side pane: a preview that follows the choices, then qualify. */
function QualifyPane({ lead, onQualified }: { lead: Lead; onQualified: () => void }) {
  const [choices, setChoices] = useState<Choices>({});
  const [result, setResult] = useState<QualifyLeadMutation['qualifyLead'] | null>(null);
  const settings = useQuery(SettingsDocument, {});
  const input = { leadId: lead.id, ...choices };
  const preview = useQuery(PreviewQualificationDocument, { input });
  const qualify = useMutation(QualifyLeadDocument);
  const p = preview.data?.previewQualification;
  const choose = (record: RecordKey, choice: RecordChoiceInput | undefined) => {
    setResult(null);
    setChoices((current) => {
      const next = { ...current };
      if (choice) next[record] = choice;
      else delete next[record];
      return next;
    });
  };
  const s = settings.data?.qualificationSettings;
  // The duplicate report to resolve: the last qualify's, else the preview's.
  const report = result?.duplicates ?? p?.duplicates ?? null;

  return (
    <aside className="qualify-pane" data-testid="qualify-pane">
      <h2>Qualify</h2>
      {s ? (
        <p className="settings" data-testid="settings">
          Settings: {s.experience} experience
          {s.experience === 'LEGACY'
            ? s.autoCreateRecords
              ? ', records created automatically'
              : ', seller decides'
            : `, account ${s.accountCreation}, contact ${s.contactCreation}, opportunity ${s.opportunityCreation}`}
        </p>
      ) : null}
      <ErrorBox failure={preview.failure ?? settings.failure} onRetry={preview.reload} />

      <h3>Choices</h3>
      {p?.requiredChoices.map((rc) => (
        <p key={rc.record} className="required" data-testid={`required-${rc.record}`}>
          <strong>{rc.record}</strong>: {rc.message}
        </p>
      ))}
      <div className="choices">
        {(['account', 'contact', 'opportunity'] as const).map((record) => {
          const required = p?.requiredChoices.find((rc) => rc.record === record);
          const options: RecordAction[] =
            required?.options ?? (record === 'opportunity' ? ['CREATE_NEW', 'SKIP'] : ['CREATE_NEW', 'USE_EXISTING', 'SKIP']);
          const current = choices[record];
          return (
            <label key={record} className={required ? 'required' : ''}>
              {record}
              <select
                aria-label={`${record} choice`}
                value={current ? `${current.action}|${current.existingId ?? ''}|${current.ignoreDuplicates ? 'y' : ''}` : ''}
                onChange={(e) => {
                  const [action, existingId, ignore] = e.target.value.split('|');
                  choose(
                    record,
                    action
                      ? { action: action as RecordAction, existingId: existingId || null, ignoreDuplicates: ignore === 'y' }
                      : undefined,
                  );
                }}
              >
                <option value="">{required ? 'Choose…' : 'As the settings decide'}</option>
                {options.map((action) => (
                  <option key={action} value={`${action}||`}>
                    {actionLabel[action]}
                  </option>
                ))}
                {current && (current.existingId || current.ignoreDuplicates) ? (
                  <option value={`${current.action}|${current.existingId ?? ''}|${current.ignoreDuplicates ? 'y' : ''}`}>
                    {current.existingId ? `Use existing (${nameOf(report, current.existingId) ?? current.existingId})` : 'Create anyway'}
                  </option>
                ) : null}
              </select>
            </label>
          );
        })}
      </div>

      <h3>Preview</h3>
      {preview.loading && !p ? <p aria-busy="true">Loading the preview…</p> : null}
      {p ? (
        <div className="preview" data-testid="preview" aria-busy={preview.loading}>
          <p>
            Would answer:{' '}
            <Badge tone={p.outcome ? stateTone(p.outcome) : 'red'}>
              <span data-testid="preview-outcome">{p.outcome ?? p.error?.code ?? 'an error'}</span>
            </Badge>
          </p>
          {p.error ? (
            <p data-testid="preview-error">
              <ItemErrorLine error={p.error} />
            </p>
          ) : null}
          <ul className="planned">
            <li data-testid="preview-account">
              Account: {p.account ? `${p.account.action}${p.account.existing ? ` ${p.account.existing.name}` : ''} (${p.account.mode})` : 'none'}
              {p.account?.action === 'CREATE_NEW' ? <MappedFields fields={p.account.fields} /> : null}
            </li>
            <li data-testid="preview-contact">
              Contact: {p.contact ? `${p.contact.action}${p.contact.existing ? ` ${p.contact.existing.fullName}` : ''} (${p.contact.mode})` : 'none'}
              {p.contact?.action === 'CREATE_NEW' ? <MappedFields fields={p.contact.fields} /> : null}
            </li>
            {p.opportunities.map((o, i) => (
              <li key={i}>
                Opportunity: {o.topic} {money(o.budgetAmount, o.currencyCode)}
              </li>
            ))}
          </ul>
          {p.warnings.map((w) => (
            <p key={w.code} className="warning">
              <code>{w.code}</code> {w.message}
            </p>
          ))}
        </div>
      ) : null}

      {report && (report.accounts.length > 0 || report.contacts.length > 0) ? (
        <DuplicateReport report={report} choices={choices} onChoose={choose} />
      ) : null}

      <button
        type="button"
        className="primary"
        data-testid="qualify-button"
        disabled={qualify.pending}
        onClick={async () => {
          const answer = await qualify.run({ input: { ...input, idempotencyKey: newKey('qualify') } });
          if (!answer) return;
          setResult(answer.qualifyLead);
          if (answer.qualifyLead.outcome === 'QUALIFIED') onQualified();
        }}
      >
        Qualify
      </button>
      <ErrorBox failure={qualify.failure} />
      {result ? (
        <div className="result" data-testid="qualify-result" data-outcome={result.outcome}>
          {result.outcome === 'QUALIFIED' ? (
            <p>
              Qualified: account {result.account?.name ?? 'none'}, contact {result.contact?.fullName ?? 'none'},{' '}
              {result.opportunities.length} opportunit{result.opportunities.length === 1 ? 'y' : 'ies'}.
            </p>
          ) : (
            <p>Duplicates found: nothing was written. Resolve them above and qualify again.</p>
          )}
        </div>
      ) : null}
    </aside>
  );
}

const nameOf = (report: DuplicateReportFieldsFragment | null, id: string): string | undefined =>
  report?.accounts.find((m) => m.account.id === id)?.account.name ??
  report?.contacts.find((m) => m.contact.id === id)?.contact.fullName;

function MappedFields({ fields }: { fields: { field: string; sourceField: string; value: string | null }[] }) {
  const shown = fields.filter((f) => f.value);
  if (shown.length === 0) return null;
  return (
    <table className="mapped">
      <tbody>
        {shown.map((f) => (
          <tr key={f.field}>
            <th>{f.field}</th>
            <td>{f.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DuplicateReport({
  report,
  choices,
  onChoose,
}: {
  report: DuplicateReportFieldsFragment;
  choices: Choices;
  onChoose: (record: RecordKey, choice: RecordChoiceInput | undefined) => void;
}) {
  const section = (
    record: 'account' | 'contact',
    matches: { id: string; name: string; detail: string; rules: { ruleName: string }[] }[],
  ) =>
    matches.length === 0 ? null : (
      <div data-testid={`duplicates-${record}`}>
        <h4>
          The new {record} matches {matches.length} existing {record === 'account' ? 'account' : 'contact'}
          {matches.length === 1 ? '' : 's'}
        </h4>
        <ul>
          {matches.map((m) => {
            const chosen = choices[record]?.existingId === m.id;
            return (
              <li key={m.id} className={chosen ? 'chosen' : ''}>
                <strong>{m.name}</strong> <small>{m.detail}</small>
                <br />
                <small>by {m.rules.map((r) => r.ruleName).join(', ')}</small>{' '}
                <button
                  type="button"
                  aria-label={`Use existing ${record} ${m.name}`}
                  disabled={chosen}
                  onClick={() => onChoose(record, { action: 'USE_EXISTING', existingId: m.id, ignoreDuplicates: false })}
                >
                  {chosen ? 'Using this one' : 'Use existing'}
                </button>
              </li>
            );
          })}
        </ul>
        <button
          type="button"
          aria-label={`Create ${record} anyway`}
          disabled={choices[record]?.ignoreDuplicates === true}
          onClick={() => onChoose(record, { action: 'CREATE_NEW', existingId: null, ignoreDuplicates: true })}
        >
          Create anyway
        </button>
      </div>
    );
  return (
    <section className="duplicates" data-testid="duplicates">
      <h3>Duplicates</h3>
      {section(
        'account',
        report.accounts.map((m) => ({
          id: m.account.id,
          name: m.account.name,
          detail: [m.account.email, m.account.website].filter(Boolean).join(' · '),
          rules: m.rules,
        })),
      )}
      {section(
        'contact',
        report.contacts.map((m) => ({
          id: m.contact.id,
          name: m.contact.fullName,
          detail: [m.contact.email, m.contact.parentAccount?.name].filter(Boolean).join(' · '),
          rules: m.rules,
        })),
      )}
    </section>
  );
}
