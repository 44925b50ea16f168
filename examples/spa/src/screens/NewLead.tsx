// A new lead, owned by the caller; the possible duplicates leadq reports are shown after it.
import { useState } from 'react';
import { ErrorBox } from '../components';
import { CreateLeadDocument, type CreateLeadMutation, type CreateLeadInput } from '../generated/graphql';
import { useMutation } from '../hooks';
import { href } from '../router';

const fields: { name: keyof CreateLeadInput; label: string; required?: boolean; type?: string }[] = [
  { name: 'topic', label: 'Topic', required: true },
  { name: 'firstName', label: 'First name' },
  { name: 'lastName', label: 'Last name', required: true },
  { name: 'jobTitle', label: 'Job title' },
  { name: 'companyName', label: 'Company' },
  { name: 'email', label: 'E-mail', type: 'email' },
  { name: 'businessPhone', label: 'Business phone', type: 'tel' },
  { name: 'website', label: 'Website' },
  { name: 'budgetAmount', label: 'Budget' },
  { name: 'currencyCode', label: 'Currency (ISO 4217)' },
];

export function NewLead() {
  const [values, setValues] = useState<Record<string, string>>({});
  const [created, setCreated] = useState<CreateLeadMutation['createLead'] | null>(null);
  const create = useMutation(CreateLeadDocument);

  return (
    <section className="new-lead">
      <h1>New lead</h1>
      <form
        data-testid="new-lead-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const input: Record<string, string> = {};
          for (const [name, value] of Object.entries(values)) if (value.trim() !== '') input[name] = value.trim();
          const answer = await create.run({ input: input as unknown as CreateLeadInput });
          if (answer) {
            setCreated(answer.createLead);
            setValues({});
          }
        }}
      >
        {fields.map((f) => (
          <label key={f.name}>
            {f.label}
            {f.required ? ' *' : ''}
            <input
              name={f.name}
              type={f.type ?? 'text'}
              required={f.required}
              value={values[f.name] ?? ''}
              onChange={(e) => setValues((v) => ({ ...v, [f.name]: e.target.value }))}
            />
          </label>
        ))}
        <div className="actions">
          <button type="submit" className="primary" disabled={create.pending}>
            Create lead
          </button>
        </div>
      </form>
      <ErrorBox failure={create.failure} />
      {created ? (
        <div className="created" data-testid="created" data-lead-id={created.lead.id}>
          <p>
            Created <strong>{created.lead.topic}</strong> ({created.lead.fullName}).{' '}
            <a href={href({ screen: 'lead', id: created.lead.id })}>Open the lead</a>
          </p>
          {created.possibleDuplicates.length > 0 ? (
            <div className="warning">
              Possible duplicates:
              <ul>
                {created.possibleDuplicates.map((d) => (
                  <li key={d.id}>
                    <a href={href({ screen: 'lead', id: d.id })}>{d.fullName}</a> {d.email} ({d.state})
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
