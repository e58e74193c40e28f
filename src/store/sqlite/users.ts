import type { Clock } from '../../clock.ts';
import type { Database } from 'bun:sqlite';
import type { User } from '../../domain/types.ts';
import type { UserRepo } from '../store.ts';

interface UserRow {
  portal_id: number;
  user_id: number;
  name: string;
  is_admin: number;
  lang: string;
  photo_url: string | null;
  time_zone: string | null;
  last_seen_at: number;
}

const toUser = (r: UserRow): User => ({
  portalId: r.portal_id,
  userId: r.user_id,
  name: r.name,
  isAdmin: r.is_admin === 1,
  lang: r.lang,
  photoUrl: r.photo_url,
  timeZone: r.time_zone,
  lastSeenAt: r.last_seen_at,
});

export function createUserRepo(db: Database, clock: Clock): UserRepo {
  const upsert = db.query<UserRow, Record<string, string | number | null>>(
    `INSERT INTO users (portal_id, user_id, name, is_admin, lang, photo_url, time_zone, last_seen_at)
     VALUES ($portal_id, $user_id, $name, $is_admin, $lang, $photo_url, $time_zone, $now)
     ON CONFLICT (portal_id, user_id) DO UPDATE SET name = excluded.name, is_admin = excluded.is_admin,
       lang = excluded.lang, photo_url = excluded.photo_url, time_zone = excluded.time_zone,
       last_seen_at = excluded.last_seen_at
     RETURNING *`,
  );
  const find = db.query<UserRow, [number, number]>('SELECT * FROM users WHERE portal_id = ? AND user_id = ?');
  return {
    upsert: async (portalId, userId, u) =>
      toUser(
        upsert.get({
          portal_id: portalId,
          user_id: userId,
          name: u.name,
          is_admin: u.isAdmin ? 1 : 0,
          lang: u.lang,
          photo_url: u.photoUrl,
          time_zone: u.timeZone,
          now: clock.now(),
        })!,
      ),
    find: async (portalId, userId) => {
      const r = find.get(portalId, userId);
      return r ? toUser(r) : null;
    },
  };
}
