/** The JSON API's view of an item: snake_case, ISO 8601 times, no internal keys. */
import { toIso } from '../domain/items.ts';
import type { Item } from '../domain/types.ts';

export const itemJson = (i: Item) => ({
  id: i.id,
  name: i.name,
  data: i.data,
  status: i.status,
  starts_at: toIso(i.startsAt),
  ends_at: toIso(i.endsAt),
  calendar_event_id: i.calendarEventId,
  created_at: toIso(i.createdAt),
  updated_at: toIso(i.updatedAt),
  version: i.version,
});
