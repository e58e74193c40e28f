import type { SQL } from 'bun';
import type { Clock } from '../../clock.ts';
import type { User } from '../../domain/types.ts';
import type { UserRepo } from '../store.ts';
import { num } from './rows.ts';

interface UserRow {
  portal_id: string;
  user_id: string;
  name: string;
  is_admin: boolean;
  lang: string;
  photo_url: string | null;
  time_zone: string | null;
  last_seen_at: string;
}

const toUser = (r: UserRow): User => ({
  portalId: num(r.portal_id),
  userId: num(r.user_id),
  name: r.name,
  isAdmin: r.is_admin === true,
  lang: r.lang,
  photoUrl: r.photo_url,
  timeZone: r.time_zone,
  lastSeenAt: num(r.last_seen_at),
});

export function createUserRepo(sql: SQL, clock: Clock): UserRepo {
  return {
    upsert: async (portalId, userId, u) => {
      const [row] = await sql`
        INSERT INTO users (portal_id, user_id, name, is_admin, lang, photo_url, time_zone, last_seen_at)
        VALUES (${portalId}, ${userId}, ${u.name}, ${u.isAdmin}, ${u.lang}, ${u.photoUrl}, ${u.timeZone}, ${clock.now()})
        ON CONFLICT (portal_id, user_id) DO UPDATE SET name = excluded.name, is_admin = excluded.is_admin,
          lang = excluded.lang, photo_url = excluded.photo_url, time_zone = excluded.time_zone,
          last_seen_at = excluded.last_seen_at
        RETURNING *`;
      return toUser(row as UserRow);
    },
    find: async (portalId, userId) => {
      const [r] = await sql`SELECT * FROM users WHERE portal_id = ${portalId} AND user_id = ${userId}`;
      return r ? toUser(r as UserRow) : null;
    },
  };
}
