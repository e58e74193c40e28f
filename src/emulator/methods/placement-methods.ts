/**
 * placement.bind / unbind / get / list (DOCS api-reference/widgets/*). Binding is admin-only and needs
 * the `placement` scope plus the scope of the tool the placement lives in; a placement outside the
 * app's scopes does not exist for it (ERROR_PLACEMENT_NOT_FOUND).
 */
import { argumentError, checkHandlerUrl } from '../handler-url.ts';
import type { CallContext, MethodTable } from '../rest-method.ts';
import { asString, upperKeys, type Params } from '../rest-request.ts';
import { RestError } from '../rest-response.ts';

/** Placement code → the tool scope it needs besides `placement`. */
const PLACEMENTS: Record<string, string> = {
  REST_APP_URI: 'placement',
  PAGE_BACKGROUND_WORKER: 'placement',
  LEFT_MENU: 'placement',
  USER_PROFILE_MENU: 'user',
  USER_PROFILE_TOOLBAR: 'user',
  CALENDAR_GRIDVIEW: 'calendar',
  TASK_VIEW_TAB: 'task',
  TASK_VIEW_SIDEBAR: 'task',
  CRM_DEAL_DETAIL_TAB: 'crm',
  CRM_CONTACT_DETAIL_TAB: 'crm',
  CRM_LEAD_DETAIL_TAB: 'crm',
  CRM_DEAL_LIST_MENU: 'crm',
  IM_NAVIGATION: 'im',
  IM_TEXTAREA: 'im',
};

const SINGLE_HANDLER = new Set(['REST_APP_URI']);

function available(scope: string[]): string[] {
  return Object.entries(PLACEMENTS)
    .filter(([, tool]) => scope.includes(tool) || (tool === 'user' && scope.some((s) => s.startsWith('user'))))
    .map(([code]) => code);
}

/** bind and unbind: admins only, PLACEMENT required (upper-cased), HANDLER as given. */
function adminRequest(ctx: CallContext, raw: Params) {
  const params = upperKeys(raw);
  if (!ctx.user.ADMIN) throw new RestError('ACCESS_DENIED', 'Access denied! Administrator access required', 403);
  const placement = asString(params.PLACEMENT)?.toUpperCase();
  if (!placement) throw argumentError('PLACEMENT');
  return { params, placement, handler: asString(params.HANDLER) };
}

export const placementMethods: MethodTable = {
  'placement.bind': {
    scope: ['placement'],
    handler(ctx, raw) {
      const { params, placement, handler } = adminRequest(ctx, raw);
      if (!handler) throw argumentError('HANDLER');
      if (!available(ctx.token.scope).includes(placement)) {
        throw new RestError('ERROR_PLACEMENT_NOT_FOUND', 'Placement not found');
      }
      const url = checkHandlerUrl(handler, ctx.install.app);
      const list = ctx.install.placements;
      if (list.some((p) => p.placement === placement && p.handler === url)) return { result: true };
      if (SINGLE_HANDLER.has(placement) && list.some((p) => p.placement === placement)) {
        throw new RestError('ERROR_PLACEMENT_MAX_COUNT', 'Placement max count exceeded');
      }
      list.push({
        id: ++ctx.portal.counters.placement,
        placement,
        handler: url,
        title: asString(params.TITLE) ?? '',
        description: asString(params.DESCRIPTION) ?? '',
        group_name: asString(params.GROUP_NAME) ?? '',
        options: params.OPTIONS ?? [],
        lang_all: params.LANG_ALL ?? [],
      });
      return { result: true };
    },
  },
  'placement.unbind': {
    scope: ['placement'],
    handler(ctx, raw) {
      const { placement, handler } = adminRequest(ctx, raw);
      const before = ctx.install.placements.length;
      ctx.install.placements = ctx.install.placements.filter(
        (p) => !(p.placement === placement && (handler === undefined || p.handler === handler)),
      );
      return { result: { count: before - ctx.install.placements.length } };
    },
  },
  'placement.get': {
    scope: ['placement'],
    handler: (ctx) => ({
      result: ctx.install.placements.map((p) => ({
        placement: p.placement,
        handler: p.handler,
        title: p.title,
        description: p.description,
        groupName: p.group_name,
        options: p.options,
        langAll: p.lang_all,
      })),
    }),
  },
  'placement.list': {
    scope: ['placement'],
    handler: (ctx) => ({ result: available(ctx.token.scope) }),
  },
};
