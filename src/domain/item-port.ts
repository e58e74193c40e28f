/**
 * What the cabinet needs from storage, declared by the core and implemented by the store
 * (src/store/sqlite/items.ts). Every method takes the Actor and filters on portal AND owner: a row of
 * someone else is "not found".
 */
import type { Actor, Item, ItemStatus } from './types.ts';

export interface ItemInput {
  name: string;
  data: Record<string, unknown> | null;
  status: ItemStatus;
  startsAt: number | null;
  endsAt: number | null;
}

export interface ItemCursor {
  createdAt: number;
  id: string;
}

export interface ItemQuery {
  status?: ItemStatus;
  /** Case-insensitive substring of the name. */
  q?: string;
  limit: number;
  /** Continue after this item (newest first). */
  after?: ItemCursor;
}

export type UpdateResult = { kind: 'updated'; item: Item } | { kind: 'conflict'; current: Item } | { kind: 'not_found' };

export interface ItemRepo {
  list(actor: Actor, query: ItemQuery): Promise<{ items: Item[]; next: ItemCursor | null }>;
  find(actor: Actor, id: string): Promise<Item | null>;
  create(actor: Actor, id: string, input: ItemInput, now: number): Promise<Item>;
  update(actor: Actor, id: string, expectedVersion: number, input: ItemInput, now: number): Promise<UpdateResult>;
  setCalendarEvent(actor: Actor, id: string, eventId: string, now: number): Promise<Item | null>;
  delete(actor: Actor, id: string): Promise<boolean>;
  /** How many items the actor has (for the per-user limit). */
  count(actor: Actor): Promise<number>;
}
