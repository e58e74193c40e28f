/**
 * user.current, user.get, user.admin and profile (CORE lib/api/user.php, DOCS user-current.md,
 * user-get.md, profile.md). The field set follows the token's scope: `user_brief` has no contact fields,
 * `user_basic` adds them, `user` returns everything. There is no ADMIN field here; `profile` has it.
 */
import { matchesFilter, sortRows } from '../list-filter.ts';
import { timeZoneOffset, type PortalUser } from '../portal-users.ts';
import { paginate, type CallContext, type MethodTable } from '../rest-method.ts';
import { asObject, asString, upperKeys, type Params } from '../rest-request.ts';

const USER_SCOPES = ['user', 'user_brief', 'user_basic'];
const CONTACT_FIELDS = ['EMAIL', 'PERSONAL_WWW', 'PERSONAL_MOBILE', 'WORK_PHONE'];
const NOT_FILTER_KEYS = new Set(['SORT', 'ORDER', 'START', 'ADMIN_MODE', 'SELECT', 'IMAGE_RESIZE']);

function fullRecord(user: PortalUser, now: Date): Record<string, unknown> {
  return {
    ID: String(user.ID),
    XML_ID: '',
    ACTIVE: user.ACTIVE,
    NAME: user.NAME,
    LAST_NAME: user.LAST_NAME,
    SECOND_NAME: '',
    EMAIL: user.EMAIL,
    LAST_LOGIN: user.DATE_REGISTER,
    DATE_REGISTER: user.DATE_REGISTER,
    IS_ONLINE: 'N',
    TIME_ZONE: user.TIME_ZONE,
    TIME_ZONE_OFFSET: timeZoneOffset(user.TIME_ZONE, now),
    TIMESTAMP_X: user.DATE_REGISTER,
    LAST_ACTIVITY_DATE: user.DATE_REGISTER,
    PERSONAL_GENDER: user.PERSONAL_GENDER,
    PERSONAL_BIRTHDAY: '',
    PERSONAL_WWW: '',
    PERSONAL_MOBILE: '',
    PERSONAL_CITY: '',
    WORK_PHONE: '',
    WORK_POSITION: user.WORK_POSITION,
    UF_EMPLOYMENT_DATE: '',
    UF_DEPARTMENT: [...user.UF_DEPARTMENT],
    USER_TYPE: 'employee',
  };
}

export function userRecord(user: PortalUser, scope: string[], now: Date): Record<string, unknown> {
  const record = fullRecord(user, now);
  if (scope.includes('user')) return record;
  if (scope.includes('user_basic')) return record;
  for (const field of CONTACT_FIELDS) delete record[field];
  return record;
}

function listUsers(ctx: CallContext, raw: Params) {
  const params = upperKeys(raw);
  const filter = asObject(params.FILTER) ?? Object.fromEntries(
    Object.entries(params).filter(([k]) => !NOT_FILTER_KEYS.has(k.replace(/^[^A-Z_]+/, ''))),
  );
  const search = asString(filter.NAME_SEARCH ?? filter.FIND);
  delete filter.NAME_SEARCH;
  delete filter.FIND;
  const now = new Date(ctx.world.clock.now());
  let rows: Record<string, unknown>[] = ctx.portal.users.map((u) => ({ ...fullRecord(u, now), NAME_FULL: `${u.NAME} ${u.LAST_NAME}` }));
  rows = rows.filter((row) => matchesFilter(row, filter, (r, field) => r[field]));
  if (search) rows = rows.filter((r) => String(r.NAME_FULL).toLowerCase().includes(search.toLowerCase()));
  const orderObject = asObject(params.ORDER);
  const sortField = asString(params.SORT);
  const order: Record<string, string> = orderObject
    ? Object.fromEntries(Object.entries(orderObject).map(([k, v]) => [k, asString(v) ?? 'ASC']))
    : { [sortField ?? 'ID']: asString(params.ORDER) ?? 'ASC' };
  const sorted = sortRows(rows, order);
  const { page, next, total } = paginate(sorted, params.START);
  const result = page.map((row) => {
    const user = ctx.portal.users.find((u) => String(u.ID) === row.ID);
    return user ? userRecord(user, ctx.token.scope, now) : row;
  });
  return next === undefined ? { result, total } : { result, next, total };
}

export const userMethods: MethodTable = {
  'user.current': {
    scope: USER_SCOPES,
    handler: (ctx) => ({ result: userRecord(ctx.user, ctx.token.scope, new Date(ctx.world.clock.now())) }),
  },
  'user.get': { scope: USER_SCOPES, handler: listUsers },
  'user.admin': { handler: (ctx) => ({ result: ctx.user.ADMIN }) },
  profile: {
    handler: (ctx) => ({
      result: ctx.user.ACTIVE
        ? {
            ID: String(ctx.user.ID),
            ADMIN: ctx.user.ADMIN,
            NAME: ctx.user.NAME,
            LAST_NAME: ctx.user.LAST_NAME,
            PERSONAL_GENDER: ctx.user.PERSONAL_GENDER,
            TIME_ZONE: ctx.user.TIME_ZONE,
            TIME_ZONE_OFFSET: timeZoneOffset(ctx.user.TIME_ZONE, new Date(ctx.world.clock.now())),
          }
        : {},
    }),
  },
};
