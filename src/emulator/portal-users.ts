/**
 * The people of an emulated portal. ID 1 is the admin who installs apps; the others are ordinary users
 * with Cyrillic and Latin names (and an apostrophe), so apps meet real-world text from the first run.
 */
export interface PortalUser {
  ID: number;
  NAME: string;
  LAST_NAME: string;
  EMAIL: string;
  ADMIN: boolean;
  ACTIVE: boolean;
  PERSONAL_GENDER: 'M' | 'F' | '';
  WORK_POSITION: string;
  UF_DEPARTMENT: number[];
  DATE_REGISTER: string;
  LANGUAGE_ID: string;
  /** The user's own Bitrix24 time zone (IANA name), '' when they never set one (then the portal's). */
  TIME_ZONE: string;
}

/** Custom users from the control API: anything omitted gets a plain default. */
export interface PortalUserSpec {
  NAME?: string;
  LAST_NAME?: string;
  EMAIL?: string;
  ADMIN?: boolean;
  ACTIVE?: boolean;
  TIME_ZONE?: string;
}

// Two of them have their own time zone (Moscow, Berlin); the others have none, as many real users.
const NAMED: Omit<PortalUser, 'ID' | 'DATE_REGISTER' | 'ACTIVE' | 'LANGUAGE_ID'>[] = [
  { NAME: 'Ada', LAST_NAME: 'Lovelace', EMAIL: 'ada@example.com', ADMIN: true, PERSONAL_GENDER: 'F', WORK_POSITION: 'Administrator', UF_DEPARTMENT: [1], TIME_ZONE: '' },
  { NAME: 'Иван', LAST_NAME: 'Петров', EMAIL: 'ivan@example.com', ADMIN: false, PERSONAL_GENDER: 'M', WORK_POSITION: 'Менеджер', UF_DEPARTMENT: [1], TIME_ZONE: '' },
  { NAME: 'John', LAST_NAME: 'Smith', EMAIL: 'john@example.com', ADMIN: false, PERSONAL_GENDER: 'M', WORK_POSITION: 'Sales', UF_DEPARTMENT: [2], TIME_ZONE: '' },
  { NAME: 'Мария', LAST_NAME: 'Сидорова', EMAIL: 'maria@example.com', ADMIN: false, PERSONAL_GENDER: 'F', WORK_POSITION: 'Бухгалтер', UF_DEPARTMENT: [2], TIME_ZONE: 'Europe/Moscow' },
  { NAME: 'Jürgen', LAST_NAME: 'Müller', EMAIL: 'juergen@example.com', ADMIN: false, PERSONAL_GENDER: 'M', WORK_POSITION: 'Entwickler', UF_DEPARTMENT: [3], TIME_ZONE: 'Europe/Berlin' },
  { NAME: 'Zoë', LAST_NAME: "O'Brien", EMAIL: 'zoe@example.com', ADMIN: false, PERSONAL_GENDER: 'F', WORK_POSITION: 'Support', UF_DEPARTMENT: [3], TIME_ZONE: '' },
];

/** TIME_ZONE_OFFSET as Bitrix24 gives it: seconds between the user's zone and the server's (UTC here), now. */
export function timeZoneOffset(zone: string, now: Date): number {
  if (!zone) return 0;
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(now)
      .map((x) => [x.type, x.value]),
  );
  const asUtc = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!);
  return Math.round((asUtc - Math.floor(now.getTime() / 60000) * 60000) / 1000);
}

export const DEFAULT_USER_COUNT = NAMED.length;

function registeredAt(id: number): string {
  return new Date(Date.UTC(2024, 0, 1) + id * 3600_000).toISOString().replace('.000Z', '+00:00');
}

/** `users` is a count (at least 1; beyond the named ones, "User N" fill up) or a list of specs. */
export function seedUsers(users: number | PortalUserSpec[] | undefined, lang: string): PortalUser[] {
  if (Array.isArray(users)) {
    return users.map((spec, i) => ({
      ID: i + 1,
      NAME: spec.NAME ?? `User${i + 1}`,
      LAST_NAME: spec.LAST_NAME ?? '',
      EMAIL: spec.EMAIL ?? `user${i + 1}@example.com`,
      ADMIN: spec.ADMIN ?? i === 0,
      ACTIVE: spec.ACTIVE ?? true,
      PERSONAL_GENDER: '',
      WORK_POSITION: '',
      UF_DEPARTMENT: [1],
      DATE_REGISTER: registeredAt(i + 1),
      LANGUAGE_ID: lang,
      TIME_ZONE: spec.TIME_ZONE ?? '',
    }));
  }
  const count = Math.max(1, Math.floor(users ?? DEFAULT_USER_COUNT));
  const list: PortalUser[] = [];
  for (let id = 1; id <= count; id++) {
    const named = NAMED[id - 1];
    const base = named ?? {
      NAME: `User${id}`,
      LAST_NAME: `Test${id}`,
      EMAIL: `user${id}@example.com`,
      ADMIN: false,
      PERSONAL_GENDER: '' as const,
      WORK_POSITION: '',
      UF_DEPARTMENT: [1 + (id % 3)],
      TIME_ZONE: '',
    };
    list.push({ ...base, ID: id, ACTIVE: true, DATE_REGISTER: registeredAt(id), LANGUAGE_ID: lang });
  }
  return list;
}

export function formatUserName(user: PortalUser): string {
  return [user.NAME, user.LAST_NAME].filter(Boolean).join(' ');
}
