/**
 * The administrator's view of the app on their portal (src/http/admin.ts), shown in the cabinet's
 * dialog: install, the app's authorization, event handlers (with Repair), the calendar queue, the REST
 * budget and the subscription. Read-only except Repair, whose answer replaces its own section.
 */
import type { Children } from '@kitajs/html';
import type { BindingsReport, InstallReport } from '../src/domain/install-report.ts';
import type { MessageKey } from './i18n.ts';
import type { ViewContext } from './view-model.ts';

const STATUS_NAMES: Record<string, MessageKey> = {
  F: 'billingStatusF',
  D: 'billingStatusD',
  T: 'billingStatusT',
  P: 'billingStatusP',
  S: 'billingStatusS',
};

function Section({ title, id, children }: { title: string; id?: string; children: Children }) {
  return (
    <section class="admin__section" id={id}>
      <h3 class="admin__heading" safe>
        {title}
      </h3>
      {children}
    </section>
  );
}

/** The handlers the app needs and whether each is there; Repair binds the missing ones (this section is its target). */
export function BindingsSection({ v, bindings }: { v: ViewContext; bindings: BindingsReport }) {
  const { t, url } = v;
  const missing = bindings.ok && bindings.bindings.some((b) => !b.present);
  return (
    <Section title={t('adminBindings')} id="admin-bindings">
      {bindings.ok ? (
        <>
          <p class={missing ? 'admin__warn' : ''} safe>
            {t(missing ? 'adminBindingsMissing' : 'adminBindingsOk')}
          </p>
          <ul class="admin__list">
            {bindings.bindings.map((b) => (
              <li data-binding={`${b.event}:${b.offline ? 'offline' : 'online'}`} data-present={b.present ? 'yes' : 'no'}>
                <code safe>{b.event}</code> <span class="muted" safe>{`(${t(b.offline ? 'bindingOffline' : 'bindingOnline')})`}</span>{' '}
                <span class={b.present ? 'admin__ok' : 'admin__warn'} safe>
                  {t(b.present ? 'bindingPresent' : 'bindingMissing')}
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p class="admin__warn" safe>
          {t('adminBindingsUnknown', { code: bindings.error })}
        </p>
      )}
      <button type="button" class="btn" hx-post={url('/ui/admin/bindings')} hx-target="#admin-bindings" hx-swap="outerHTML" safe>
        {t('adminRepair')}
      </button>
    </Section>
  );
}

function Subscription({ v, report }: { v: ViewContext; report: InstallReport }) {
  const { t } = v;
  const s = report.subscription;
  if (report.appStatus === 'L') return <p safe>{t('adminBillingLocal')}</p>;
  if (!s) return <p class="muted" safe>{t('adminBillingUnknown')}</p>;
  const name = STATUS_NAMES[s.status];
  return (
    <>
      <p safe>{t('adminBillingStatus', { status: name ? t(name) : s.status })}</p>
      {s.paymentExpired ? (
        <p class="admin__warn" data-subscription="expired" safe>
          {t('adminBillingExpired')}
        </p>
      ) : s.days !== null ? (
        <p safe>{t.plural('adminBillingDays', s.days)}</p>
      ) : (
        ''
      )}
    </>
  );
}

export function AdminPanel({ v, report }: { v: ViewContext; report: InstallReport }) {
  const { t, url, dates } = v;
  const tokens = report.appTokens;
  const installed: string = report.installedAt ? t('adminInstalledAt', { date: dates.dateTime(report.installedAt) }) : report.status;
  return (
    <div class="admin" data-admin-panel>
      <h2 id="dialog-title" class="dialog__title" safe>
        {t('adminTitle')}
      </h2>
      <p class="muted">
        <code safe>{report.domain}</code>
      </p>
      <Section title={t('adminInstall')}>
        <p safe>{installed}</p>
      </Section>
      <Section title={t('adminTokens')}>
        {tokens.state === 'live' && tokens.issuedAt !== null && tokens.renewAt !== null && tokens.refreshExpiresAt !== null ? (
          <p data-tokens="live" safe>
            {t('adminTokensLive', {
              issued: dates.dateTime(tokens.issuedAt),
              renew: dates.dateTime(tokens.renewAt),
              expires: dates.dateTime(tokens.refreshExpiresAt),
            })}
          </p>
        ) : (
          <p class="admin__warn" data-tokens="needs-reauthorization" role="alert" safe>
            {t('adminTokensDead')}
          </p>
        )}
      </Section>
      <BindingsSection v={v} bindings={report.bindings} />
      <Section title={t('adminQueue')}>
        <p data-queue="outbox" safe>
          {t('adminQueueOutbox', { pending: String(report.calendarQueue.outbox.pending), failed: String(report.calendarQueue.outbox.failed) })}
        </p>
        <p data-queue="inbox" safe>
          {t('adminQueueInbox', { pending: String(report.calendarQueue.inbox.pending), failed: String(report.calendarQueue.inbox.failed) })}
        </p>
        {report.calendarQueue.oldestPendingAt !== null ? (
          <p class="muted" safe>
            {t('adminQueueOldest', { date: dates.dateTime(report.calendarQueue.oldestPendingAt) })}
          </p>
        ) : (
          ''
        )}
      </Section>
      <Section title={t('adminBudget')}>
        <p safe>
          {t('adminBudgetUse', { level: String(report.restBudget.level), burst: String(report.restBudget.burst), rate: String(report.restBudget.rate) })}
        </p>
      </Section>
      <Section title={t('adminBilling')}>
        <Subscription v={v} report={report} />
      </Section>
      <p>
        <button type="button" class="btn btn--link" hx-get={url('/ui/admin')} hx-target="#dialog-body" safe>
          {t('adminRefresh')}
        </button>
      </p>
    </div>
  );
}
