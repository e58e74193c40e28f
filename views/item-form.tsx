import { fieldMessage } from './view-model.ts';
import type { ItemView, ViewContext } from './view-model.ts';

/** The user's input as typed, so a failed form comes back exactly as it was sent. */
export interface ItemFormValues {
  name: string;
  notes: string;
  startsAt: string;
  endsAt: string;
  status: 'active' | 'archived';
}

export const formValuesOf = (item: ItemView, v: ViewContext): ItemFormValues => ({
  name: item.name,
  notes: item.notes,
  startsAt: v.dates.inputValue(item.startsAt),
  endsAt: v.dates.inputValue(item.endsAt),
  status: item.status,
});

export const emptyFormValues: ItemFormValues = { name: '', notes: '', startsAt: '', endsAt: '', status: 'active' };

interface FieldProps {
  id: string;
  label: string;
  error?: string;
  children: JSX.Element;
}

function Field({ id, label, error, children }: FieldProps) {
  return (
    <div class="field">
      <label for={id} safe>
        {label}
      </label>
      {children}
      {error ? (
        <p class="field__error" id={`${id}-error`} safe>
          {error}
        </p>
      ) : (
        ''
      )}
    </div>
  );
}

interface ItemFieldsProps {
  prefix: string;
  values: ItemFormValues;
  /** Problem codes by field (domain FieldIssue, or not_a_date from the form's own parsing). */
  errors: Record<string, string>;
  v: ViewContext;
  withStatus: boolean;
  /** The item is in the user's Bitrix24 calendar: say what clearing its start does. */
  linked?: boolean;
}

function ItemFields({ prefix, values, errors, v, withStatus, linked = false }: ItemFieldsProps) {
  const { t } = v;
  const invalid = (key: string) => (errors[key] ? { 'aria-invalid': 'true', 'aria-describedby': `${prefix}-${key}-error` } : {});
  const message = (key: string) => (errors[key] ? fieldMessage(t, v.lang, errors[key]) : undefined);
  return (
    <>
      <Field id={`${prefix}-name`} label={t('name')} error={message('name')}>
        <input id={`${prefix}-name`} name="name" type="text" required maxlength="200" value={values.name} autofocus {...invalid('name')} />
      </Field>
      <Field id={`${prefix}-notes`} label={t('notes')} error={message('data')}>
        <textarea id={`${prefix}-notes`} name="notes" rows="3" maxlength="4000" {...invalid('data')} safe>
          {values.notes}
        </textarea>
      </Field>
      <p class="field__hint" id={`${prefix}-zone`} safe>
        {t('timeZoneNote', { zone: v.dates.zoneLabel === v.dates.zone ? v.dates.zone : `${v.dates.zone}, ${v.dates.zoneLabel}` })}
      </p>
      <div class="field-row">
        <Field id={`${prefix}-starts_at`} label={t('startsAt')} error={message('starts_at')}>
          <input id={`${prefix}-starts_at`} name="starts_at" type="datetime-local" value={values.startsAt} {...invalid('starts_at')} />
        </Field>
        <Field id={`${prefix}-ends_at`} label={t('endsAt')} error={message('ends_at')}>
          <input id={`${prefix}-ends_at`} name="ends_at" type="datetime-local" value={values.endsAt} {...invalid('ends_at')} />
        </Field>
      </div>
      {linked ? (
        <p class="field__hint" safe>
          {t('clearingStartDeletesEvent')}
        </p>
      ) : (
        ''
      )}
      {withStatus ? (
        <Field id={`${prefix}-status`} label={t('status')}>
          <select id={`${prefix}-status`} name="status">
            <option value="active" selected={values.status === 'active'} safe>
              {t('active')}
            </option>
            <option value="archived" selected={values.status === 'archived'} safe>
              {t('archived')}
            </option>
          </select>
        </Field>
      ) : (
        ''
      )}
    </>
  );
}

export interface CreateItemFormProps {
  values: ItemFormValues;
  errors: Record<string, string>;
  /** The id the item will get: sending the same form twice creates one item (see ItemService.create). */
  draftId: string;
  v: ViewContext;
}

/**
 * Create form, shown in the dialog. A 422 reply re-renders it with the input, the messages and the
 * same draft id. The submit button is disabled while the request runs (no double submit).
 */
export function CreateItemForm({ values, errors, draftId, v }: CreateItemFormProps) {
  return (
    <form class="item-form" hx-post={v.url('/ui/items')} hx-target="this" hx-swap="outerHTML" hx-disabled-elt="find button[type=submit]">
      <h2 id="dialog-title" class="dialog__title" safe>
        {v.t('newItem')}
      </h2>
      <input type="hidden" name="draft_id" value={draftId} />
      <ItemFields prefix="new" values={values} errors={errors} v={v} withStatus={false} />
      <div class="form-actions">
        <button type="submit" class="btn btn--primary" safe>
          {v.t('create')}
        </button>
        <button type="button" class="btn btn--link" data-close-dialog safe>
          {v.t('cancel')}
        </button>
      </div>
    </form>
  );
}

export interface EditItemFormProps {
  item: ItemView;
  values: ItemFormValues;
  errors: Record<string, string>;
  /**
   * Set when the save lost an optimistic-concurrency race: the stored values, shown beside the user's
   * own (which stay in the fields). The form then carries the stored version.
   */
  conflict?: ItemFormValues;
  v: ViewContext;
}

/** What someone else saved meanwhile, field by field, in a notice above the user's own input. */
function ConflictNotice({ current, v }: { current: ItemFormValues; v: ViewContext }) {
  const { t } = v;
  const shown: [string, string][] = [
    [t('name'), current.name],
    [t('notes'), current.notes],
    [t('startsAt'), current.startsAt.replace('T', ' ')],
    [t('endsAt'), current.endsAt.replace('T', ' ')],
    [t('status'), t(current.status)],
  ];
  return (
    <div class="notice notice--warning" role="alert">
      <p class="notice__title" safe>
        {t('conflict')} {t('conflictCurrent')}
      </p>
      <dl class="conflict-values">
        {shown
          .filter(([, value]) => value)
          .map(([label, value]) => (
            <>
              <dt safe>{label}</dt>
              <dd safe>{value}</dd>
            </>
          ))}
      </dl>
      <p safe>{t('conflictYours')}</p>
    </div>
  );
}

/** Inline edit, in place of the row. Cancel brings the row back; save replaces the form with the row. */
export function EditItemForm({ item, values, errors, conflict, v }: EditItemFormProps) {
  const rowUrl = v.url(`/ui/items/${item.id}`);
  return (
    <li id={`item-${item.id}`} class="item-row item-row--editing">
      <form class="item-form item-form--inline" hx-put={rowUrl} hx-target={`#item-${item.id}`} hx-swap="outerHTML" hx-disabled-elt="find button[type=submit]">
        {conflict ? <ConflictNotice current={conflict} v={v} /> : ''}
        <input type="hidden" name="version" value={String(item.version)} />
        <ItemFields prefix={`edit-${item.id}`} values={values} errors={errors} v={v} withStatus={true} linked={item.calendarEventId !== null} />
        <div class="form-actions">
          <button type="submit" class="btn btn--primary" safe>
            {v.t('save')}
          </button>
          {/* hx-disabled-elt is inherited from the form; its selector means nothing from this button. */}
          <button type="button" class="btn btn--link" hx-get={rowUrl} hx-target={`#item-${item.id}`} hx-swap="outerHTML" hx-disabled-elt="unset" data-cancel-edit safe>
            {v.t('cancel')}
          </button>
        </div>
      </form>
    </li>
  );
}
