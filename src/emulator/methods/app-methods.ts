/**
 * The portal's app.info (no client_id, member_id or domain: it cannot prove who is asking, unlike the
 * OAuth server's), scope, and app/user options (the REST side of setAppOption/setUserOption).
 */
import { billingOf } from '../billing.ts';
import type { CallContext, MethodTable } from '../rest-method.ts';
import { asObject, asString, upperKeys } from '../rest-request.ts';
import { RestError } from '../rest-response.ts';

function optionsOf(values: Record<string, unknown>, key: string | undefined): unknown {
  if (key === undefined) return Object.keys(values).length ? { ...values } : [];
  return values[key] ?? null;
}

function readOptions(raw: Record<string, unknown>): Record<string, unknown> {
  const options = asObject(raw.options);
  if (options) return options;
  const params = upperKeys(raw);
  const name = asString(params.NAME ?? params.OPTION);
  return name ? { [name]: params.VALUE } : {};
}

/**
 * DOCS api-reference/common/system/app-info.md (CORE rest_provider.php appInfo): the installation's
 * version, and STATUS / PAYMENT_EXPIRED / DAYS from this portal's billing of the app (billing.ts). It
 * answers a lapsed app too, so that the app can learn why everything else is refused.
 */
function appInfo(ctx: CallContext) {
  const billing = billingOf(ctx.world, ctx.portal, ctx.install.app);
  return {
    result: {
      ID: ctx.install.app.id,
      CODE: ctx.install.app.client_id,
      VERSION: ctx.install.version,
      STATUS: billing.status,
      INSTALLED: ctx.install.installed,
      PAYMENT_EXPIRED: billing.paymentExpired ? 'Y' : 'N',
      DAYS: billing.days,
      LANGUAGE_ID: ctx.portal.lang,
      LICENSE: `${ctx.portal.lang}_project`,
      LICENSE_TYPE: 'project',
      LICENSE_FAMILY: 'project',
    },
  };
}

export const appMethods: MethodTable = {
  'app.info': { handler: appInfo },
  scope: {
    handler: (ctx, raw) => ({
      result: upperKeys(raw).FULL ? ['basic', 'user', 'user_brief', 'user_basic', 'placement', 'calendar', 'crm', 'task', 'im'] : ctx.token.scope,
    }),
  },
  'app.option.get': {
    handler: (ctx, raw) => ({ result: optionsOf(ctx.install.appOptions, asString(upperKeys(raw).OPTION)) }),
  },
  'app.option.set': {
    handler(ctx, raw) {
      if (!ctx.user.ADMIN) throw new RestError('ACCESS_DENIED', 'Access denied! Administrator access required', 403);
      Object.assign(ctx.install.appOptions, readOptions(raw));
      return { result: true };
    },
  },
  'user.option.get': {
    handler: (ctx, raw) => ({
      result: optionsOf(ctx.install.userOptions.get(ctx.user.ID) ?? {}, asString(upperKeys(raw).OPTION)),
    }),
  },
  'user.option.set': {
    handler(ctx, raw) {
      const current = ctx.install.userOptions.get(ctx.user.ID) ?? {};
      ctx.install.userOptions.set(ctx.user.ID, { ...current, ...readOptions(raw) });
      return { result: true };
    },
  },
};
